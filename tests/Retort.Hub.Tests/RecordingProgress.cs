using System.Collections.Concurrent;
using Retort.Hub.Download;
using Retort.Hub.Hub;

namespace Retort.Hub.Tests;

/// <summary>Keeps what a pull reported, to check the plan and which files were verified.</summary>
internal sealed class RecordingProgress : IPullProgress
{
    public IReadOnlyList<HubFile> Plan { get; private set; } = [];

    public ConcurrentBag<string> VerifiedFiles { get; } = [];

    public void Planned(string source, string commit, IReadOnlyList<HubFile> files) => Plan = files;

    public void Transferred(HubFile file, long bytes)
    {
    }

    public void Verified(HubFile file) => VerifiedFiles.Add(file.Path);
}
