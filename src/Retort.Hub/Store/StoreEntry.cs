namespace Retort.Hub.Store;

/// <summary>
/// One model in the local store, as recorded in the manifest. <see cref="Commit"/> is the hub revision
/// its files came from (null in manifests written before it was recorded): `retort pull` compares it
/// with the repo's current revision to decide whether there is an update.
/// </summary>
public sealed record StoreEntry(string Name, string Repo, string Folder, string ModelPath, long SizeBytes, int Files, DateTimeOffset PulledAt,
    string? Commit = null);
