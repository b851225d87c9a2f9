namespace Retort.Cli.Commands;

/// <summary>A test and its tokens per second over the measured repetitions.</summary>
internal sealed record BenchResult(BenchTest Test, MeanSd TokensPerSecond);
