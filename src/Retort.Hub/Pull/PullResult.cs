using Retort.Hub.Store;

namespace Retort.Hub.Pull;

/// <summary>
/// The model in the store after a pull; <see cref="AlreadyPresent"/> when nothing had to be fetched
/// (the model was there and, when checked, at the repo's current revision); <see cref="Updated"/> when
/// a model already in the store was replaced by a newer revision.
/// </summary>
public sealed record PullResult(StoreEntry Entry, string ModelPath, bool AlreadyPresent, bool Updated = false);
