using Retort.Hub.Store;

namespace Retort.Hub.Pull;

/// <summary>The model in the store after a pull; <see cref="AlreadyPresent"/> when nothing had to be fetched.</summary>
public sealed record PullResult(StoreEntry Entry, string ModelPath, bool AlreadyPresent);
