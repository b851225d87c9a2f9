namespace Retort.Distillation.Evaluation;

/// <summary>
/// One evaluation problem: the question the model sees and the reference answer it is scored against.
/// <see cref="Group"/> (a task family, MATH's subject) splits the accuracy when the file has one; a code
/// problem carries <see cref="Tests"/>, which decide instead of the reference.
/// </summary>
public sealed record EvalItem(string Id, string Question, string Reference, string? Group = null, CodeTests? Tests = null);
