namespace Retort.Distillation.Models;

/// <summary>
/// How a remote model is retried after 429, 5xx, timeouts and dropped connections: exponential back-off
/// from <see cref="BaseDelay"/> (doubling, capped at <see cref="MaxDelay"/>), or the server's Retry-After
/// when it sends one.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>Tries in all, the first included.</summary>
    public int MaxAttempts { get; init; } = 8;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long one request may take before it counts as timed out (reasoning is slow).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Waits between tries; tests replace it to record the delays without sleeping.</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;

    /// <summary>The wait before try number <paramref name="attempt"/> + 1 (attempt counts from 1).</summary>
    public TimeSpan DelayAfter(int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is TimeSpan server && server >= TimeSpan.Zero) return server;
        double seconds = BaseDelay.TotalSeconds * Math.Pow(2, attempt - 1);
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxDelay.TotalSeconds));
    }
}
