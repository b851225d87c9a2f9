using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Retort.Engine.IO;

/// <summary>
/// The one way Retort writes an output that a user or a later run relies on (models, checkpoints,
/// adapters, data sets, the store's manifest). The bytes go to a temporary sibling named
/// <c>NAME.tmp-PID-RANDOM</c>, which is flushed and then renamed over NAME in one step, so NAME is
/// always either the old whole file or the new whole file. A failure or a cancellation deletes the
/// temporary. A killed process (SIGKILL cannot be caught) leaves its temporary behind; the next
/// write of the same NAME deletes it once no process with that PID runs, so a writer still at work
/// in another process keeps its file.
/// </summary>
public static class AtomicFile
{
    private const string TempMarker = ".tmp-";
    private const string OldMarker = ".old-";
    private const int BufferSize = 1 << 16;
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Writes <paramref name="path"/> from what <paramref name="write"/> puts into the stream. Every write to
    /// that stream checks <paramref name="cancellationToken"/>, so a cancelled write stops within one chunk
    /// and throws <see cref="WriteCanceledException"/> after deleting its temporary.
    /// </summary>
    public static void Write(string path, Action<Stream> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (Path.EndsInDirectorySeparator(path) || Directory.Exists(path))
            throw new RetortException($"cannot write the file '{path}': it names a folder; expected a file path");
        string full = Prepare(path);
        string temp = TempPathFor(full);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize))
            {
                using (var checkedStream = new CancellableWriteStream(file, cancellationToken))
                    write(checkedStream);
                cancellationToken.ThrowIfCancellationRequested();
                file.Flush(flushToDisk: true);
            }
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temp, full, overwrite: true);
        }
        catch (OperationCanceledException ex)
        {
            throw new WriteCanceledException(full, temp, TryDelete(temp), ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteText(string path, string text, CancellationToken cancellationToken = default) =>
        Write(path, stream => stream.Write(Utf8.GetBytes(text)), cancellationToken);

    /// <summary>Lines ending in "\n" (never "\r\n"), UTF-8 without a byte-order mark.</summary>
    public static void WriteLines(string path, IEnumerable<string> lines, CancellationToken cancellationToken = default) => Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, Utf8, leaveOpen: true) { NewLine = "\n" };
        foreach (string line in lines) writer.WriteLine(line);
    }, cancellationToken);

    /// <summary>
    /// Builds a folder: <paramref name="fill"/> writes into a temporary sibling folder (passing
    /// <paramref name="cancellationToken"/> on to its own writes), which then takes
    /// <paramref name="path"/>'s place. An existing folder is renamed aside for the swap and deleted after it;
    /// a crash between the two renames leaves it as <c>NAME.old-PID-RANDOM</c>, which is never deleted
    /// automatically, so the user's previous output is never lost.
    /// </summary>
    public static void WriteFolder(string path, Action<string> fill, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fill);
        string full = Prepare(path);
        string temp = TempPathFor(full);
        Directory.CreateDirectory(temp);
        try
        {
            fill(temp);
            cancellationToken.ThrowIfCancellationRequested();
            if (Directory.Exists(full))
            {
                string old = full + OldMarker + UniqueSuffix();
                Directory.Move(full, old);
                Directory.Move(temp, full);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temp, full);
            }
        }
        catch (OperationCanceledException ex)
        {
            throw new WriteCanceledException(full, temp, TryDelete(temp), ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporaries of <paramref name="path"/> (files or folders named <c>NAME.tmp-PID-RANDOM</c>,
    /// nothing else) whose process has exited; this process's own and those of running processes stay.
    /// Returns the paths deleted. Every write calls it first; it is public for callers that want to tidy up
    /// without writing.
    /// </summary>
    public static IReadOnlyList<string> RemoveStale(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        string? dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) return [];
        string prefix = Path.GetFileName(full) + TempMarker;
        var removed = new List<string>();
        // Every entry is compared by hand: a search pattern would treat '*' and '?' in NAME as wildcards.
        foreach (string entry in Directory.EnumerateFileSystemEntries(dir))
        {
            string name = Path.GetFileName(entry);
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || OwnerOf(name.AsSpan(prefix.Length)) is not int pid) continue;
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
            if (TryDelete(entry)) removed.Add(entry);
        }
        return removed;
    }

    /// <summary>A fresh temporary path beside <paramref name="full"/>, carrying this process's id.</summary>
    private static string TempPathFor(string full) => full + TempMarker + UniqueSuffix();

    private static string UniqueSuffix() =>
        string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Random.Shared.Next():x8}");

    /// <summary>The PID in a temporary's suffix "PID-RANDOM" (RANDOM: 8 hex digits), or null when the suffix is not ours.</summary>
    private static int? OwnerOf(ReadOnlySpan<char> suffix)
    {
        int dash = suffix.IndexOf('-');
        if (dash <= 0 || suffix.Length - dash - 1 != 8) return null;
        foreach (char c in suffix[(dash + 1)..])
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return null;
        foreach (char c in suffix[..dash])
            if (!char.IsAsciiDigit(c)) return null;
        return int.TryParse(suffix[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : null;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return true; // it exists but is not ours to inspect: leave its file alone
        }
    }

    private static string Prepare(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        string dir = Path.GetDirectoryName(full) ?? throw new RetortException($"cannot write to '{path}': it has no parent folder");
        Directory.CreateDirectory(dir);
        RemoveStale(full);
        return full;
    }

    /// <summary>Deletes a file, a folder (recursively) or a link (never its target); false when it could not.</summary>
    private static bool TryDelete(string path)
    {
        try
        {
            if (new FileInfo(path).LinkTarget is null && Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
            return !Path.Exists(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
