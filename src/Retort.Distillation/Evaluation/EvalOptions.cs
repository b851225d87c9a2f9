using Retort.Distillation.Models;

namespace Retort.Distillation.Evaluation;

/// <summary>K samples per problem with these sampling parameters; the seed, when set, is offset per sample.</summary>
public sealed record EvalOptions
{
    public int Samples { get; init; } = 1;

    public ChatSampling Sampling { get; init; } = new();

    /// <summary>Requests in flight at once (useful for remote models).</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>Runs the hidden tests of code problems.</summary>
    public PythonTestRunner CodeRunner { get; init; } = new();

    /// <summary>Told the number of answers scored so far.</summary>
    public IProgress<int>? Progress { get; init; }
}
