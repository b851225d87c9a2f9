namespace Retort.Training.Loop;

/// <summary>An evaluation loss at a step.</summary>
internal sealed record EvalPoint(int Step, double Loss);
