namespace Retort.Distillation.Models;

/// <summary>
/// The sampling parameters sent with each request (and recorded with each trace). Defaults follow
/// DeepSeek's advice for R1-style models: temperature 0.6, top-p 0.95.
/// </summary>
public sealed record ChatSampling
{
    public float Temperature { get; init; } = 0.6f;

    public float TopP { get; init; } = 0.95f;

    public int MaxTokens { get; init; } = 4096;

    /// <summary>Sent to servers that take one, and used by local models; null leaves sampling unseeded.</summary>
    public int? Seed { get; init; }
}
