namespace Retort.Hub.Hub;

/// <summary>A file of a hub repo as the listing describes it; <see cref="Sha256"/> is the LFS object id (null for small git-stored files).</summary>
public sealed record HubFile(string Path, long Size, string? Sha256);
