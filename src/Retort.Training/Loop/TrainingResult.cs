namespace Retort.Training.Loop;

/// <summary>The outcome of <see cref="DistillationTrainer.Run"/>.</summary>
public sealed record TrainingResult(
    int Steps,
    IReadOnlyList<double> Losses,
    IReadOnlyList<(int Step, double Loss)> EvalLosses,
    long Tokens,
    double TokensPerSecond,
    string? LatestCheckpoint);
