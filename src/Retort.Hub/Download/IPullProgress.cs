using Retort.Hub.Hub;

namespace Retort.Hub.Download;

/// <summary>What a pull reports while it runs; calls for different files come from different threads.</summary>
public interface IPullProgress
{
    /// <summary>The files that will be fetched, before any transfer starts.</summary>
    void Planned(string source, string commit, IReadOnlyList<HubFile> files);

    /// <summary>Bytes of <paramref name="file"/> on disk so far (absolute: a restarted transfer may go back to 0).</summary>
    void Transferred(HubFile file, long bytes);

    /// <summary>The file is complete and its checksum (or size, for files without one) matches the listing.</summary>
    void Verified(HubFile file);

    /// <summary>Another pull of the same model (this or another process) holds it: this one waits for it to end.</summary>
    void Waiting(string name);
}
