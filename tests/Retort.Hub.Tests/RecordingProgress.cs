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

    /// <summary>How often the pull said it waits for another pull of the same model.</summary>
    public int Waits { get; private set; }

    public void Waiting(string name) => Waits++;

    public void Transferred(HubFile file, long bytes)
    {
    }

    public void Verified(HubFile file) => VerifiedFiles.Add(file.Path);
}
