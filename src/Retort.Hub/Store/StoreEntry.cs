namespace Retort.Hub.Store;

/// <summary>One model in the local store, as recorded in the manifest.</summary>
public sealed record StoreEntry(string Name, string Repo, string Folder, string ModelPath, long SizeBytes, int Files, DateTimeOffset PulledAt);
