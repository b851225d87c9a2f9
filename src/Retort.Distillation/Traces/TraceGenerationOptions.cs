using Retort.Distillation.Models;

namespace Retort.Distillation.Traces;

/// <summary>How many samples per prompt, how many requests in flight, and the sampling sent with each.</summary>
public sealed record TraceGenerationOptions
{
    public int SamplesPerPrompt { get; init; } = 1;

    public int Concurrency { get; init; } = 1;

    /// <summary>The seed, when given, is offset by the sample index so samples of one prompt differ.</summary>
    public ChatSampling Sampling { get; init; } = new();

    /// <summary>Told the number of samples written so far after each one.</summary>
    public IProgress<int>? Progress { get; init; }
}
