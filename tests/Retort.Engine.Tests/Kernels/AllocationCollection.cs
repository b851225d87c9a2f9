namespace Retort.Engine.Tests.Kernels;

/// <summary>
/// Allocation tests read process-wide counters, so they must not overlap with other tests that
/// allocate on their own threads.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocation measurements";
}
