namespace Retort.Training.Loop;

/// <summary>What a finished optimizer step reports (for the progress bar and the log).</summary>
public sealed record TrainingProgress(
    int Step,
    int TotalSteps,
    double Loss,
    double LearningRate,
    double GradientNorm,
    long Tokens,
    double TokensPerSecond,
    TimeSpan Elapsed,
    TimeSpan Remaining,
    double? EvalLoss);
