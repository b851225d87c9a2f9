namespace Retort.Hub.Hub;

/// <summary>The files of a repo at one revision; <see cref="Commit"/> pins the downloads to that exact state.</summary>
internal sealed record RepoListing(string Repo, string Commit, IReadOnlyList<HubFile> Files);
