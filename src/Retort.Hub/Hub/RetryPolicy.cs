namespace Retort.Hub.Hub;

/// <summary>How often and how long to wait before asking the hub again (429, 5xx, dropped connections, stalls). Tests replace <see cref="Delay"/>.</summary>
internal sealed class RetryPolicy
{
    public static RetryPolicy Default { get; } = new();

    /// <summary>Requests per file or listing before giving up (the first one included).</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Longest single wait, even when Retry-After asks for more: a pull should fail clearly rather than hang.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(60);

    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;

    /// <summary>Exponential backoff for the n-th retry (1-based): 1 s, 2 s, 4 s, ...</summary>
    public TimeSpan Backoff(int retry) => Clamp(TimeSpan.FromSeconds(Math.Pow(2, Math.Min(retry - 1, 10))));

    public TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxWait ? MaxWait : wait;
}
