using System.Diagnostics;
using System.Text.RegularExpressions;
using Retort.Engine.Formats.Gguf;
using Retort.Engine.IO;
using Retort.Engine.Tensors;
using Retort.Engine.Tests.Support;

namespace Retort.Engine.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WriteThatFailsMidwayLeavesNoTemporaryAndKeepsTheOldFile()
    {
        string path = _dir.File("out.gguf");
        File.WriteAllText(path, "old");
        var ex = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1 << 20]);
            throw new IOException("No space left on device");
        }));
        Assert.Equal("No space left on device", ex.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void CancelledWriteRemovesItsTemporaryAndSaysWhich()
    {
        string path = _dir.File("out.gguf");
        File.WriteAllText(path, "old");
        using var cts = new CancellationTokenSource();
        string? seen = null;
        var ex = Assert.Throws<WriteCanceledException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[4096]);
            seen = Assert.Single(Directory.GetFiles(_dir.Path, "out.gguf.tmp-*"));
            cts.Cancel();
            stream.Write(new byte[4096]);
            Assert.Fail("a write after the cancellation went through");
        }, cts.Token));
        Assert.Matches($"^{Regex.Escape(path)}\\.tmp-{Environment.ProcessId}-[0-9a-f]{{8}}$", ex.PartialPath);
        Assert.Equal(seen, ex.PartialPath);
        Assert.True(ex.Removed);
        Assert.Equal(path, ex.Target);
        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Contains($"removed the partial {ex.PartialPath}", ex.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void GgufWriterStopsMidTensorWhenCancelled()
    {
        string path = _dir.File("model.gguf");
        using var cts = new CancellationTokenSource();
        int rows = 0;
        var writer = new GgufWriter().AddTensor("w", GgmlType.F32, [8, 1000], stream =>
        {
            for (int r = 0; r < 1000; r++)
            {
                if (r == 10) cts.Cancel();
                stream.Write(new byte[32]);
                rows++;
            }
        });
        Assert.Throws<WriteCanceledException>(() => writer.Write(path, cts.Token));
        Assert.Equal(10, rows);
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void FolderWriteReplacesTheOldFolderOrLeavesItWhole()
    {
        string folder = _dir.File("model");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), "old");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.WriteFolder(folder, temp =>
        {
            File.WriteAllText(Path.Combine(temp, "config.json"), "new");
            throw new InvalidOperationException("export failed");
        }));
        Assert.Equal("old", File.ReadAllText(Path.Combine(folder, "config.json")));
        Assert.Equal([folder], Directory.GetFileSystemEntries(_dir.Path));

        // Cancelled inside a file written into the folder: the folder's temporary is the one reported and removed.
        using var cts = new CancellationTokenSource();
        var cancelled = Assert.Throws<WriteCanceledException>(() => AtomicFile.WriteFolder(folder, temp =>
            AtomicFile.Write(Path.Combine(temp, "model.safetensors"), stream =>
            {
                cts.Cancel();
                stream.WriteByte(1);
            }, cts.Token), cts.Token));
        Assert.StartsWith(folder + ".tmp-", cancelled.PartialPath);
        Assert.Equal([folder], Directory.GetFileSystemEntries(_dir.Path));

        AtomicFile.WriteFolder(folder, temp => File.WriteAllText(Path.Combine(temp, "config.json"), "new"));
        Assert.Equal("new", File.ReadAllText(Path.Combine(folder, "config.json")));
        Assert.Equal([folder], Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void TemporariesOfExitedProcessesGoAndEveryOtherFileStays()
    {
        int dead = ExitedProcessId();
        string path = _dir.File("a*b?.gguf");
        string deadFile = $"{path}.tmp-{dead}-0123abcd", deadFolder = $"{path}.tmp-{dead}-89abcdef", deadLink = $"{path}.tmp-{dead}-deadbeef";
        File.WriteAllText(deadFile, "partial");
        Directory.CreateDirectory(deadFolder);
        File.WriteAllText(Path.Combine(deadFolder, "x"), "partial");
        // A link named like a temporary goes, never what it points to.
        string precious = _dir.File("precious");
        Directory.CreateDirectory(precious);
        File.WriteAllText(Path.Combine(precious, "data"), "keep");
        Directory.CreateSymbolicLink(deadLink, precious);
        string[] kept =
        [
            $"{path}.tmp-{Environment.ProcessId}-0123abcd", // this process: a write still under way
            $"{path}.tmp-1-0123abcd",                      // a running process
            $"{path}.tmp-{dead}-0123ABCD",                 // not the pattern (upper-case hex)
            $"{path}.tmp-{dead}-0123abc",                  // not the pattern (7 digits)
            $"{path}.tmp-x{dead}-0123abcd",
            $"{path}.tmp-{dead}",
            $"{path}.old-{dead}-0123abcd",                 // a folder set aside in a swap: the user's old output
            _dir.File($"aXbY.gguf.tmp-{dead}-0123abcd"),   // what the target name would match as a wildcard
            _dir.File($"other.gguf.tmp-{dead}-0123abcd"),
        ];
        foreach (string file in kept) File.WriteAllText(file, "keep");

        var removed = AtomicFile.RemoveStale(path);
        Assert.Equal(new[] { deadFile, deadFolder, deadLink }.Order(StringComparer.Ordinal), removed.Order(StringComparer.Ordinal));
        Assert.False(Path.Exists(deadFile) || Path.Exists(deadFolder) || Path.Exists(deadLink));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(precious, "data")));
        Assert.All(kept, file => Assert.Equal("keep", File.ReadAllText(file)));

        // Every write tidies first.
        File.WriteAllText(deadFile, "partial");
        AtomicFile.WriteText(path, "new");
        Assert.False(File.Exists(deadFile));
        Assert.Equal("new", File.ReadAllText(path));
    }

    private static int ExitedProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }
}
