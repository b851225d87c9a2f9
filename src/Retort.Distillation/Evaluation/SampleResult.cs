namespace Retort.Distillation.Evaluation;

/// <summary>
/// One sampled answer: what was extracted from it, whether it matched, and its length. <see cref="Unchecked"/>:
/// a code answer whose tests could not be run (no Python), counted as not right.
/// </summary>
public sealed record SampleResult(string? Extracted, bool Correct, int? OutputTokens, string FinishReason, bool Unchecked = false);
