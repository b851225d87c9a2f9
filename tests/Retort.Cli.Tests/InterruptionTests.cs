using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Retort.Engine.Formats.Gguf;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

/// <summary>
/// A real `retort` process (the one built beside these tests) signalled while it writes: SIGINT and SIGTERM stop
/// it with one line and exit 130/143, its partial output gone and the previous output untouched; after SIGKILL,
/// which no process can catch, the next run writing the same output removes the partial the dead one left, and
/// leaves alone the temporaries of live processes and every file that is not one.
/// </summary>
public sealed class InterruptionTests(LargeModelFixture large) : IClassFixture<LargeModelFixture>, IDisposable
{
    private const int SigInt = 2, SigKill = 9, SigTerm = 15;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(25);

    private readonly string _dir = Directory.CreateTempSubdirectory("retort-interrupt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(SigInt, 130)]
    [InlineData(SigTerm, 143)]
    public async Task SignalledQuantizeRemovesItsPartialAndKeepsTheOldOutput(int signal, int exitCode)
    {
        string output = Path.Combine(_dir, "out.gguf");
        byte[] old = "the user's previous model"u8.ToArray();
        File.WriteAllBytes(output, old);

        using var process = StartRetort("quantize", large.Model, output, "q4_k_m");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        string partial = await WaitForPartial(process, output, stderr);
        Assert.Equal(0, Kill(process.Id, signal));
        await WaitForExit(process);

        string err = (await stderr).Trim();
        Assert.Equal(exitCode, process.ExitCode);
        Assert.Matches($"^quantize: interrupted; removed partial {Regex.Escape(output)}\\.tmp-{process.Id}-[0-9a-f]{{8}}$", err);
        Assert.Contains(partial, err);
        Assert.DoesNotContain("wrote", await stdout);
        Assert.False(File.Exists(partial));
        Assert.Empty(Directory.GetFileSystemEntries(_dir, "out.gguf.tmp-*"));
        Assert.Equal(old, File.ReadAllBytes(output));
    }

    [Fact]
    public async Task PartialOfAKilledRunIsRemovedByTheNextRunButLiveOnesAndOtherFilesStay()
    {
        string output = Path.Combine(_dir, "out.gguf");
        using (var process = StartRetort("quantize", large.Model, output, "q4_k_m"))
        {
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            string partial = await WaitForPartial(process, output, stderr);
            Assert.Equal(0, Kill(process.Id, SigKill));
            await WaitForExit(process);
            Assert.True(File.Exists(partial), "SIGKILL cannot be caught: the partial stays until the next run");
            Assert.False(File.Exists(output));

            // Not ours to delete: this (live) process's temporary, PID 1's, other targets' and files of other patterns.
            string[] kept =
            [
                $"{output}.tmp-{Environment.ProcessId}-00c0ffee",
                $"{output}.tmp-1-0badf00d",
                $"{output}.tmp-{process.Id}-xyz",
                $"{output}.tmp-notours",
                $"{output}.old-{process.Id}-00c0ffee",
                Path.Combine(_dir, $"other.gguf.tmp-{process.Id}-00c0ffee"),
            ];
            foreach (string path in kept) File.WriteAllText(path, "keep");
            // A dead process's folder temporary goes too (distill train's checkpoints and exports are folders).
            string deadFolder = $"{output}.tmp-{process.Id}-12345678";
            Directory.CreateDirectory(deadFolder);
            File.WriteAllText(Path.Combine(deadFolder, "part.safetensors"), "x");

            var (code, _, err) = CliRunner.Run("quantize", Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"), output, "q8_0");
            Assert.True(code == 0, err);
            Assert.False(File.Exists(partial));
            Assert.False(Directory.Exists(deadFolder));
            Assert.All(kept, path => Assert.Equal("keep", File.ReadAllText(path)));
            using var written = GgufFile.Open(output);
            Assert.Equal("qwen2", written.GetString("general.architecture"));
        }
    }

    [Fact]
    public async Task SignalledTrainingStopsWithItsCheckpointsAndNoPartialFiles()
    {
        string data = Path.Combine(_dir, "traces.jsonl");
        File.WriteAllLines(data, Enumerable.Range(0, 12).Select(i =>
            JsonSerializer.Serialize(new { prompt = $"What is {i} plus 2?", reasoning = $"{i} plus 2 is {i + 2}.", answer = $"{i + 2}" })));
        string outDir = Path.Combine(_dir, "run");
        using var process = StartRetort("distill", "train", "--student", Fixtures.Path("qwen2-micro", "hf"), "--data", data, "--out", outDir,
            "--steps", "100000", "--save-every", "1", "--batch", "2", "--seq-len", "64", "-t", "1");
        var stderr = process.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync().WaitAsync(Bound)) != null && !line.StartsWith("step 3/", StringComparison.Ordinal))
            Assert.True(clock.Elapsed < Bound, "training did not reach step 3");
        Assert.NotNull(line);
        _ = process.StandardOutput.ReadToEndAsync();
        Assert.Equal(0, Kill(process.Id, SigTerm));
        await WaitForExit(process);

        string err = (await stderr).Trim();
        Assert.Equal(143, process.ExitCode);
        Assert.StartsWith("distill train: interrupted", err);
        Assert.EndsWith($"the complete checkpoints in {Path.Combine(outDir, "checkpoints")} are kept: run again with --resume to continue", err);
        Assert.Empty(Directory.GetFileSystemEntries(outDir, "*.tmp-*", SearchOption.AllDirectories));
        string latest = File.ReadAllText(Path.Combine(outDir, "checkpoints", "latest")).Trim();
        Assert.True(File.Exists(Path.Combine(outDir, "checkpoints", latest, "state.json")), latest);
        Assert.False(Directory.Exists(Path.Combine(outDir, "model")));
    }

    [Fact]
    public async Task SignalledPullKeepsWhatItGotAndTheNextPullResumes()
    {
        const string repo = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B";
        await using var hub = await FakeHub.StartAsync();
        hub.AddFolder(repo, Fixtures.Path("qwen2-tiny", "hf"));
        // 5.5 MB at 64 KiB per 50 ms: about 4 s, long enough to interrupt once 1 MiB (worth resuming) is in.
        hub.Trickle("model.safetensors", 64 << 10, TimeSpan.FromMilliseconds(50));
        string home = Path.Combine(_dir, "home");
        var environment = new Dictionary<string, string?> { ["RETORT_HOME"] = home, ["HF_ENDPOINT"] = hub.Endpoint };

        using var process = StartRetort(environment, "pull", repo);
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        string? partial = null;
        while (partial == null && clock.Elapsed < Bound && !process.HasExited)
        {
            partial = Directory.Exists(home)
                ? Directory.GetFiles(home, "*.part", SearchOption.AllDirectories).FirstOrDefault(p => new FileInfo(p).Length >= 1 << 20)
                : null;
            await Task.Delay(10);
        }
        Assert.True(partial != null, $"no partial download appeared: {(process.HasExited ? await stderr : "")}");
        Assert.Equal(0, Kill(process.Id, SigInt));
        await WaitForExit(process);

        Assert.Equal(130, process.ExitCode);
        Assert.Equal($"pull: interrupted; what was downloaded is kept in {Path.Combine(home, "tmp")}: pull again to resume", (await stderr).Trim());
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1 << 20, new FileInfo(Fixtures.Path("qwen2-tiny", "hf", "model.safetensors")).Length - 1);
        Assert.False(File.Exists(Path.Combine(home, "manifest.json")));

        hub.StopTrickling("model.safetensors");
        hub.Requests.Clear();
        var (code, _, err) = CliRunner.RunWithEnvironment(environment, "pull", repo);
        Assert.True(code == 0, err);
        var resumed = Assert.Single(hub.RequestsFor("model.safetensors"), r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal));
        Assert.Equal($"bytes={kept}-", resumed.Range);
        Assert.Empty(Directory.GetFiles(home, "*.part", SearchOption.AllDirectories));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>
    /// The CLI as a user runs it: `dotnet retort.dll`, through env(1) so SIGINT and SIGTERM have their default
    /// disposition (a test host started in the background ignores SIGINT, and children inherit that; a terminal's
    /// foreground job does not).
    /// </summary>
    private static Process StartRetort(params string[] args) => StartRetort(new Dictionary<string, string?>(), args);

    private static Process StartRetort(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        foreach (string arg in new[] { "--default-signal=INT,TERM", host, Path.Combine(AppContext.BaseDirectory, "retort.dll") }.Concat(args))
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    /// <summary>The partial file of <paramref name="output"/> once it holds bytes: the writer is mid-way.</summary>
    private static async Task<string> WaitForPartial(Process process, string output, Task<string> stderr)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Bound)
        {
            var partial = Directory.GetFiles(Path.GetDirectoryName(output)!, Path.GetFileName(output) + ".tmp-*")
                .FirstOrDefault(p => new FileInfo(p).Length > 0);
            if (partial != null) return partial;
            if (process.HasExited) Assert.Fail($"retort exited ({process.ExitCode}) before writing: {await stderr}");
            await Task.Delay(10);
        }
        process.Kill();
        Assert.Fail("no partial file appeared");
        return "";
    }

    private static async Task WaitForExit(Process process)
    {
        using var timeout = new CancellationTokenSource(Bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            Assert.Fail("retort did not stop after the signal");
        }
    }
}
