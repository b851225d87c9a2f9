namespace Retort.Engine.IO;

/// <summary>
/// An <see cref="AtomicFile"/> write stopped by its cancellation token: the target was left as it was, and
/// the partial temporary was deleted (<see cref="Removed"/>) or, when it could not be, is deleted by the next
/// write of the same target.
/// </summary>
public sealed class WriteCanceledException(string target, string partialPath, bool removed, OperationCanceledException inner)
    : OperationCanceledException($"writing {target} was cancelled; {(removed ? "removed" : "could not remove")} the partial {partialPath}", inner, inner.CancellationToken)
{
    /// <summary>The file or folder that was being written (unchanged).</summary>
    public string Target { get; } = target;

    /// <summary>The temporary the write had made.</summary>
    public string PartialPath { get; } = partialPath;

    /// <summary>True when <see cref="PartialPath"/> is gone.</summary>
    public bool Removed { get; } = removed;
}
