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

    /// <summary>Why it ended. A reasoning budget does not end a generation (the answer follows), so it is no
    /// reason of its own: see <see cref="ReasoningBudgetExhausted"/>.</summary>
    public required FinishReason FinishReason { get; init; }

    /// <summary>Tokens the model sampled inside its think block: what <see cref="Sampling.SamplingOptions.ReasoningBudget"/>
    /// counts (the tokens that open and close the block and the forced nudge are not counted).</summary>
    public int ReasoningTokens { get; init; }

    /// <summary>
    /// The reasoning budget ended the thinking: the engine wrote the nudge and the closing tag (they are in
    /// <see cref="Tokens"/>) and the model answered from there. False when the model closed its thinking itself,
    /// or when the token limit came first (then <see cref="FinishReason"/> is Length with the block still open).
    /// </summary>
    public bool ReasoningBudgetExhausted { get; init; }

    public required TimeSpan PromptTime { get; init; }

    public required TimeSpan GenerationTime { get; init; }

    public double PromptTokensPerSecond =>
        PromptTime.TotalSeconds > 0 ? (PromptTokens.Count - ReusedPromptTokens) / PromptTime.TotalSeconds : 0;

    public double GenerationTokensPerSecond =>
        GenerationTime.TotalSeconds > 0 ? Tokens.Count / GenerationTime.TotalSeconds : 0;
}
