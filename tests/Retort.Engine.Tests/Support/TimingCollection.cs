namespace Retort.Engine.Tests.Support;

/// <summary>Timing assertions run alone, after the parallel tests, so other tests' I/O cannot skew them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "Timing";
}
