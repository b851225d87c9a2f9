namespace Retort.Distillation.Evaluation;

/// <summary>One evaluation problem: the question the model sees and the reference answer it is scored against.</summary>
public sealed record EvalItem(string Id, string Question, string Reference);
