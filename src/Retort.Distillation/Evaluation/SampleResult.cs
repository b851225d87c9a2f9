namespace Retort.Distillation.Evaluation;

/// <summary>One sampled answer: what was extracted from it, whether it matched, and its length.</summary>
public sealed record SampleResult(string? Extracted, bool Correct, int? OutputTokens, string FinishReason);
