namespace Retort.Engine.Kernels;

/// <summary>
/// Work handed to <see cref="WorkerPool"/>: a preallocated object (not a delegate), so dispatching
/// an operation allocates nothing.
/// </summary>
internal interface IRangeJob
{
    /// <summary>Processes items [begin, end). Called concurrently from several threads on disjoint ranges.</summary>
    void Execute(int begin, int end);
}
