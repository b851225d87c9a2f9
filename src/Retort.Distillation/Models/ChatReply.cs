namespace Retort.Distillation.Models;

/// <summary>One answer from a model: reasoning and final answer separated, with token counts and timing.</summary>
public sealed record ChatReply
{
    public required string Reasoning { get; init; }

    public required string Answer { get; init; }

    /// <summary>"stop", "length", or whatever the server said.</summary>
    public required string FinishReason { get; init; }

    public int? PromptTokens { get; init; }

    public int? CompletionTokens { get; init; }

    /// <summary>Time spent producing the completion (for local models: generation only, without the prompt).</summary>
    public TimeSpan Elapsed { get; init; }
}
