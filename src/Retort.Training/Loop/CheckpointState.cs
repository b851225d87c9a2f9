namespace Retort.Training.Loop;

/// <summary>The JSON half of a checkpoint (state.json): where the run stands and how it was configured.</summary>
internal sealed record CheckpointState
{
    public required int Step { get; init; }
    public required int TotalSteps { get; init; }
    public required int Epoch { get; init; }
    public required int Cursor { get; init; }
    public required long Tokens { get; init; }
    public required TrainingOptions Options { get; init; }
    public required List<double> Losses { get; init; }
    public required List<EvalPoint> EvalLosses { get; init; }
}
