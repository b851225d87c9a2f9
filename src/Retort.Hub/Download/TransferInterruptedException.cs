namespace Retort.Hub.Download;

/// <summary>The connection broke or stalled mid-file: worth resuming, unlike a disk error or an HTTP refusal.</summary>
internal sealed class TransferInterruptedException(string message, Exception? inner = null) : Exception(message, inner);
