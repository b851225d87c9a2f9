namespace Retort.Engine.Generation;

/// <summary>Everything one generation produced, with its timings.</summary>
public sealed record GenerationResult
{
    public required IReadOnlyList<int> PromptTokens { get; init; }

    /// <summary>Prompt tokens whose keys and values were already in the cache (not recomputed).</summary>
    public required int ReusedPromptTokens { get; init; }

    public required IReadOnlyList<int> Tokens { get; init; }

    /// <summary>The generated text as decoded, tags included, stop string excluded.</summary>
    public required string Text { get; init; }

    public required string Reasoning { get; init; }

    public required string Answer { get; init; }

    public required FinishReason FinishReason { get; init; }

    public required TimeSpan PromptTime { get; init; }

    public required TimeSpan GenerationTime { get; init; }

    public double PromptTokensPerSecond =>
        PromptTime.TotalSeconds > 0 ? (PromptTokens.Count - ReusedPromptTokens) / PromptTime.TotalSeconds : 0;

    public double GenerationTokensPerSecond =>
        GenerationTime.TotalSeconds > 0 ? Tokens.Count / GenerationTime.TotalSeconds : 0;
}
