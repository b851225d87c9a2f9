namespace Retort.Server;

/// <summary>How <see cref="RetortServer"/> listens and how much work it accepts.</summary>
public sealed record ServerOptions
{
    /// <summary>Loopback by default: the server is for this machine unless asked otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 7860;

    /// <summary>Sequences generated at the same time; their KV caches take pages from one shared pool.</summary>
    public int Parallel { get; init; } = 1;

    /// <summary>Context size of each slot; null or 0: the model's trained context, within the KV budget (see <see cref="Retort.Engine.Model.ContextPlan"/>).</summary>
    public int? ContextSize { get; init; }

    /// <summary>
    /// The reasoning budget of requests that set none (reasoning_budget, reasoning_effort, Ollama's think):
    /// tokens of thinking before the engine closes the think block. Null or -1: no limit; 0: no thinking.
    /// </summary>
    public int? ReasoningBudget { get; init; }

    /// <summary>The text written before the closing tag when a budget ends the thinking; null: the engine's
    /// (<see cref="Retort.Engine.Sampling.SamplingOptions.DefaultReasoningNudge"/>).</summary>
    public string? ReasoningNudge { get; init; }

    /// <summary>
    /// Bytes the slots' shared KV pool may take in all (--kv-budget); null: half the memory left after the weights.
    /// Requests wait in the queue while the pages they may need are taken; one that could never fit is a 400.
    /// </summary>
    public long? KvBudgetBytes { get; init; }

    /// <summary>When set, every endpoint but /health and the chat page needs "Authorization: Bearer KEY".</summary>
    public string? ApiKey { get; init; }

    /// <summary>Log prompts and answers (off: only sizes and timings are logged).</summary>
    public bool LogPrompts { get; init; }

    /// <summary>Requests that may wait for a slot or for KV pages; beyond that the answer is 429.</summary>
    public int QueueLength { get; init; } = 16;

    public long MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;

    public int MaxMessages { get; init; } = 512;

    /// <summary>Seconds a client is told to wait (Retry-After) when the queue is full.</summary>
    public int RetryAfterSeconds { get; init; } = 2;

    /// <summary>
    /// The names a loopback server always answers to, on any port (and any name under .localhost,
    /// which browsers resolve to this machine themselves). Any other Host header is refused, so a
    /// page whose domain an attacker re-points at 127.0.0.1 (DNS rebinding) cannot read the answers.
    /// </summary>
    public static IReadOnlyList<string> LoopbackHosts { get; } = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>
    /// More Host names to answer to (--allowed-host): a name, an IP address, "*.example.com" for its
    /// subdomains, or "*" for any. On a loopback address they add to <see cref="LoopbackHosts"/>; on
    /// another address (exposed on purpose) Host is not checked unless some are given.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>
    /// Web origins (--cors-origin, "http://localhost:3000", or "*" for any) whose pages may call the
    /// API: they get CORS answers. Other pages' POSTs are refused; requests without an Origin header
    /// (curl, SDKs) and the server's own chat page are not affected.
    /// </summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];
}
