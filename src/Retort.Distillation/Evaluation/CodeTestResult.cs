namespace Retort.Distillation.Evaluation;

/// <summary>The outcome of a code answer's tests and one line saying why (the failing case, the error, the timeout).</summary>
public sealed record CodeTestResult(CodeTestOutcome Outcome, string Detail);
