using System.Collections.Concurrent;
using Retort.Hub.Download;
using Retort.Hub.Hub;

namespace Retort.Cli.Pulling;

/// <summary>Pull progress as plain lines, for logs and redirected output: the plan, resumed files, verified files.</summary>
internal sealed class PlainPullProgress(TextWriter output) : IPullProgress
{
    private readonly ConcurrentDictionary<string, bool> _seen = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public void Planned(string source, string commit, IReadOnlyList<HubFile> files) =>
        Write($"pulling {source} (revision {commit[..Math.Min(12, commit.Length)]}): {files.Count} files, {ByteSize.Format(files.Sum(f => f.Size))}");

    public void Transferred(HubFile file, long bytes)
    {
        // Only the first report of a file says anything: whether it resumes from an earlier run.
        if (_seen.TryAdd(file.Path, true) && bytes > 0 && bytes < file.Size)
            Write($"resuming {file.Path} at {ByteSize.Format(bytes)} of {ByteSize.Format(file.Size)}");
    }

    public void Verified(HubFile file) =>
        Write($"verified {file.Path} ({ByteSize.Format(file.Size)}, {(file.Sha256 is null ? "size" : "sha256")})");

    public void Waiting(string name) => Write($"waiting: another pull of {name} is running");

    private void Write(string line)
    {
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}
