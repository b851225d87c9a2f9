namespace Retort.Server;

/// <summary>How <see cref="RetortServer"/> listens and how much work it accepts.</summary>
public sealed record ServerOptions
{
    /// <summary>Loopback by default: the server is for this machine unless asked otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 7860;

    /// <summary>Sequences generated at the same time, each with its own KV cache.</summary>
    public int Parallel { get; init; } = 1;

    /// <summary>Context size of each slot; null: the model's, at most 4096.</summary>
    public int? ContextSize { get; init; }

    /// <summary>When set, every endpoint but /health and the chat page needs "Authorization: Bearer KEY".</summary>
    public string? ApiKey { get; init; }

    /// <summary>Log prompts and answers (off: only sizes and timings are logged).</summary>
    public bool LogPrompts { get; init; }

    /// <summary>Requests that may wait for a slot; beyond that the answer is 429.</summary>
    public int QueueLength { get; init; } = 16;

    public long MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;

    public int MaxMessages { get; init; } = 512;

    /// <summary>Seconds a client is told to wait (Retry-After) when the queue is full.</summary>
    public int RetryAfterSeconds { get; init; } = 2;
}
