using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Hub.Hub;
using Retort.Hub.Pull;
using Retort.Hub.Store;
using Retort.Tests.Support;

namespace Retort.Hub.Tests;

/// <summary>Pulls against the fake hub (a real HTTP server on 127.0.0.1) into a temporary store.</summary>
public sealed class PullTests : IAsyncLifetime
{
    private const string R1Repo = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B";
    private const string GgufRepo = "someone/Tiny-GGUF";
    private static readonly string[] FolderFiles =
        ["chat_template.jinja", "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "retort-pull-" + Guid.NewGuid().ToString("N"));
    private readonly List<TimeSpan> _waits = [];
    private FakeHub _hub = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.AddFolder(R1Repo, Tiny("hf"));
        _hub.AddFile(R1Repo, "pytorch_model.bin", new byte[1000]);
        _hub.AddFile(R1Repo, "onnx/model.onnx", new byte[1000]);
        _hub.AddFile(R1Repo, "README.md", "# tiny"u8.ToArray());

        var bf16 = File.ReadAllBytes(Tiny("gguf", "qwen2-tiny-bf16.gguf"));
        _hub.AddFile(GgufRepo, "tiny-Q8_0.gguf", File.ReadAllBytes(Tiny("gguf", "qwen2-tiny-q8_0.gguf")));
        _hub.AddFile(GgufRepo, "tiny-F16.gguf", File.ReadAllBytes(Tiny("gguf", "qwen2-tiny-f16.gguf")));
        _hub.AddFile(GgufRepo, "tiny-Q4_K_M-00001-of-00002.gguf", bf16[..(bf16.Length / 2)]);
        _hub.AddFile(GgufRepo, "tiny-Q4_K_M-00002-of-00002.gguf", bf16[(bf16.Length / 2)..]);
        _hub.AddFile(GgufRepo, "mmproj-tiny-F16.gguf", new byte[100]);
        _hub.AddFile(GgufRepo, "README.md", "# gguf"u8.ToArray());
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    [Fact]
    public async Task AliasPullsTheSafetensorsFolderOnlyAndTheModelLoads()
    {
        var progress = new RecordingProgress();
        var result = await Puller().PullAsync("DeepSeek-R1:1.5B", progress);

        Assert.False(result.AlreadyPresent);
        Assert.Equal("deepseek-r1:1.5b", result.Entry.Name);
        Assert.Equal(R1Repo, result.Entry.Repo);
        Assert.Equal(FolderFiles, Directory.GetFiles(result.ModelPath).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in FolderFiles)
            Assert.Equal(File.ReadAllBytes(Tiny("hf", name)), File.ReadAllBytes(Path.Combine(result.ModelPath, name)));
        Assert.Equal(FolderFiles, progress.VerifiedFiles.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains(".bin") || r.Path.Contains("onnx") || r.Path.Contains("README"));
        Assert.Single(Store.List());
        Assert.False(Directory.Exists(Store.StagingDir) && Directory.EnumerateFileSystemEntries(Store.StagingDir).Any());
        using (var model = LoadedModel.Load(result.ModelPath, null, 1))
            Assert.Equal("qwen2", model.Config.Architecture);

        int before = _hub.Requests.Count;
        var again = await Puller().PullAsync("deepseek-r1:1.5b", new RecordingProgress());
        Assert.True(again.AlreadyPresent);
        Assert.Equal(before, _hub.Requests.Count);
    }

    [Fact]
    public async Task QuantTagPicksTheMatchingGgufIgnoringCaseAndProjectors()
    {
        var q8 = await Puller().PullAsync(GgufRepo + ":q8_0", new RecordingProgress());
        Assert.Equal(GgufRepo + ":Q8_0", q8.Entry.Repo);
        Assert.Equal(1, q8.Entry.Files);
        Assert.Equal("tiny-Q8_0.gguf", Path.GetFileName(q8.ModelPath));
        Assert.Equal(File.ReadAllBytes(Tiny("gguf", "qwen2-tiny-q8_0.gguf")), File.ReadAllBytes(q8.ModelPath));

        var f16 = await Puller().PullAsync(GgufRepo + ":F16", new RecordingProgress());
        Assert.Equal(["tiny-F16.gguf"], Directory.GetFiles(Path.GetDirectoryName(f16.ModelPath)!).Select(Path.GetFileName));
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("mmproj"));
    }

    [Fact]
    public async Task NoTagTakesQ4KMWithAllItsSplitParts()
    {
        var result = await Puller().PullAsync(GgufRepo, new RecordingProgress());
        Assert.Equal(GgufRepo + ":Q4_K_M", result.Entry.Repo);
        Assert.Equal("tiny-Q4_K_M-00001-of-00002.gguf", Path.GetFileName(result.ModelPath));
        var folder = Path.GetDirectoryName(result.ModelPath)!;
        var whole = File.ReadAllBytes(Path.Combine(folder, "tiny-Q4_K_M-00001-of-00002.gguf"))
            .Concat(File.ReadAllBytes(Path.Combine(folder, "tiny-Q4_K_M-00002-of-00002.gguf")));
        Assert.Equal(File.ReadAllBytes(Tiny("gguf", "qwen2-tiny-bf16.gguf")), whole);
    }

    [Fact]
    public async Task APullWaitsWhileAnotherPullOfTheSameModelHoldsIt()
    {
        // The lock another `retort pull` of this model would hold.
        Directory.CreateDirectory(Store.LocksDir);
        var held = new FileStream(Store.LockPath(ModelReference.Parse(R1Repo).Name), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var progress = new RecordingProgress();
        var pull = Puller().PullAsync(R1Repo, progress);
        for (int i = 0; i < 200 && progress.Waits == 0; i++) await Task.Delay(50);
        Assert.Equal(1, progress.Waits);
        await Task.Delay(300);
        Assert.False(pull.IsCompleted);
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("/api/models/"));
        held.Dispose();
        var result = await pull;
        Assert.False(result.AlreadyPresent);
        Assert.True(File.Exists(Path.Combine(result.ModelPath, "model.safetensors")));
    }

    [Fact]
    public async Task TwoPullsAtOnceDownloadEachFileOnce()
    {
        var results = await Task.WhenAll(Puller().PullAsync(R1Repo, new RecordingProgress()), Puller().PullAsync(R1Repo, new RecordingProgress()));
        Assert.Single(results, r => !r.AlreadyPresent);
        Assert.Equal(results[0].ModelPath, results[1].ModelPath);
        Assert.Single(Store.List());
        Assert.Single(_hub.RequestsFor("model.safetensors"), r => r.Path.Contains("/resolve/"));
    }

    [Fact]
    public async Task PullWithUpdateCheckFetchesOnlyWhatANewRevisionChanged()
    {
        var first = await Puller().PullAsync(R1Repo, new RecordingProgress());
        Assert.Equal(FakeHub.Commit, first.Entry.Commit);

        // Same revision: nothing fetched.
        int requests = _hub.Requests.Count;
        var same = await Puller().PullAsync(R1Repo, new RecordingProgress(), checkForUpdate: true);
        Assert.True(same.AlreadyPresent);
        Assert.DoesNotContain(_hub.Requests.Skip(requests), r => r.Path.Contains("/resolve/"));

        // A new revision that changes one small file: only that file is downloaded, the rest verified in place.
        byte[] generation = "{\"bos_token_id\": 1, \"eos_token_id\": 2, \"do_sample\": true}"u8.ToArray();
        _hub.AddFile(R1Repo, "generation_config.json", generation);
        _hub.Revision = "fedcba9876543210fedcba9876543210fedcba98";
        requests = _hub.Requests.Count;
        var updated = await Puller().PullAsync(R1Repo, new RecordingProgress(), checkForUpdate: true);
        Assert.True(updated.Updated);
        Assert.False(updated.AlreadyPresent);
        Assert.Equal(_hub.Revision, updated.Entry.Commit);
        Assert.Equal(first.ModelPath, updated.ModelPath);
        var fetched = _hub.Requests.Skip(requests).Where(r => r.Path.Contains("/resolve/")).Select(r => Path.GetFileName(r.Path)).ToList();
        Assert.Equal(["generation_config.json"], fetched);
        Assert.Equal(generation, File.ReadAllBytes(Path.Combine(updated.ModelPath, "generation_config.json")));
        Assert.Equal(File.ReadAllBytes(Tiny("hf", "model.safetensors")), File.ReadAllBytes(Path.Combine(updated.ModelPath, "model.safetensors")));
        Assert.Single(Store.List());
        Assert.False(Directory.Exists(Store.StagingDir) && Directory.EnumerateFileSystemEntries(Store.StagingDir).Any());

        // Without the check (what `run` does), a present model is used as it is, offline or not.
        requests = _hub.Requests.Count;
        Assert.True((await Puller().PullAsync(R1Repo, new RecordingProgress())).AlreadyPresent);
        Assert.Equal(requests, _hub.Requests.Count);
    }

    [Fact]
    public async Task UnknownQuantTagListsTheTagsThatExist()
    {
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync(GgufRepo + ":Q5_K_S", new RecordingProgress()));
        Assert.Contains("'Q5_K_S'", ex.Message);
        Assert.Contains("available tags: F16, Q4_K_M, Q8_0", ex.Message);
        Assert.Empty(Store.List());
    }

    [Fact]
    public async Task CutTransferIsResumedWithARangeRequest()
    {
        _hub.CutAt("model.safetensors", 1_000_000);
        var result = await Puller().PullAsync(R1Repo, new RecordingProgress());

        var transfers = _hub.RequestsFor("model.safetensors").Where(r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, transfers.Count);
        Assert.Null(transfers[0].Range);
        // The resume starts where the received bytes end: the cut offset, or a little before it when
        // the reset overtook bytes still in flight.
        long resumedAt = RangeStart(transfers[1].Range);
        Assert.InRange(resumedAt, 1, 1_000_000);
        Assert.Equal(File.ReadAllBytes(Tiny("hf", "model.safetensors")), File.ReadAllBytes(Path.Combine(result.ModelPath, "model.safetensors")));
    }

    [Fact]
    public async Task InterruptedPullIsInvisibleAndTheNextOneResumes()
    {
        _hub.CutAt("model.safetensors", 2_000_000, times: int.MaxValue);
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync(R1Repo, new RecordingProgress()));
        Assert.Contains("model.safetensors", ex.Message);
        Assert.Contains("run the pull again", ex.Message);
        Assert.Empty(Store.List());
        var partial = Assert.Single(Directory.GetFiles(_root, "*.part", SearchOption.AllDirectories));
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1, 2_000_000);
        // A crash after the folder was moved but before the manifest was written leaves an orphan folder.
        var orphan = Path.Combine(_root, LocalStore.FolderFor(R1Repo));
        Directory.CreateDirectory(orphan);
        File.WriteAllText(Path.Combine(orphan, "config.json"), "{}");
        Assert.Empty(Store.List());

        _hub.StopCutting("model.safetensors");
        _hub.Requests.Clear();
        var result = await Puller().PullAsync(R1Repo, new RecordingProgress());

        Assert.Equal($"bytes={kept}-", Assert.Single(_hub.RequestsFor("model.safetensors"), r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).Range);
        Assert.Empty(_hub.RequestsFor("config.json")); // verified in the first run, kept in staging
        Assert.Equal(File.ReadAllBytes(Tiny("hf", "model.safetensors")), File.ReadAllBytes(Path.Combine(result.ModelPath, "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Tiny("hf", "config.json")), File.ReadAllBytes(Path.Combine(result.ModelPath, "config.json")));
        Assert.Empty(Directory.GetFiles(_root, "*.part", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task WrongChecksumIsReportedAndTheFileNeverEntersTheStore()
    {
        _hub.Corrupt(R1Repo, "model.safetensors");
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync(R1Repo, new RecordingProgress()));
        Assert.Contains("checksum mismatch", ex.Message);
        Assert.Contains("model.safetensors", ex.Message);
        Assert.Empty(Store.List());
        Assert.Empty(Directory.GetFiles(_root, "model.safetensors*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task FileWithoutLfsChecksumIsHeldToItsSize()
    {
        _hub.Corrupt(R1Repo, "config.json", appendByte: true);
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync(R1Repo, new RecordingProgress()));
        Assert.Contains("size mismatch", ex.Message);
        Assert.Contains("config.json", ex.Message);
        Assert.Empty(Store.List());
        Assert.Empty(Directory.GetFiles(_root, "config.json*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task GatedRepoNeedsTheTokenAndTheTokenIsNeverShown()
    {
        _hub.RequiredToken = "hf_secret123";
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync(R1Repo, new RecordingProgress()));
        Assert.Contains("401", ex.Message);
        Assert.Contains("HF_TOKEN", ex.Message);
        Assert.Contains("gated", ex.Message);

        ex = await Assert.ThrowsAsync<RetortException>(() => Puller(token: "hf_wrong456").PullAsync(R1Repo, new RecordingProgress()));
        Assert.Contains("401", ex.Message);
        Assert.DoesNotContain("hf_wrong456", ex.Message);

        var settings = new HubSettings { Endpoint = _hub.Endpoint, Token = "hf_secret123" };
        Assert.DoesNotContain("hf_secret123", settings.ToString());
        await Puller(token: "hf_secret123").PullAsync(R1Repo, new RecordingProgress());
        Assert.Contains(_hub.Requests, r => r.Path.StartsWith("/api/models/", StringComparison.Ordinal) && r.Authorization == "Bearer hf_secret123");
        Assert.Single(Store.List());
    }

    [Fact]
    public async Task MissingRepoAndMissingFileAre404Errors()
    {
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync("nobody/Nothing-Here", new RecordingProgress()));
        Assert.Contains("'nobody/Nothing-Here'", ex.Message);
        Assert.Contains("not found", ex.Message);
        Assert.Contains("404", ex.Message);

        _hub.Fail("/resolve/" + FakeHub.Commit + "/tokenizer.json", 404);
        ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync(R1Repo, new RecordingProgress()));
        Assert.Contains("file 'tokenizer.json' not found", ex.Message);
        Assert.Empty(Store.List());
    }

    [Fact]
    public async Task TooManyRequestsWaitsAsRetryAfterSaysThenGivesUp()
    {
        _hub.Fail("/api/models/", 429, times: 2, retryAfter: "7");
        await Puller().PullAsync(R1Repo, new RecordingProgress());
        Assert.Equal([TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(7)], _waits);
        Assert.Single(Store.List());

        _waits.Clear();
        _hub.Requests.Clear();
        _hub.Fail("/api/models/", 429, retryAfter: "1");
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync(GgufRepo + ":Q8_0", new RecordingProgress()));
        Assert.Contains("429", ex.Message);
        Assert.Contains("after 5 attempts", ex.Message);
        Assert.Equal(5, _hub.Requests.Count(r => r.Path.StartsWith("/api/models/", StringComparison.Ordinal)));
        Assert.Equal(4, _waits.Count);
    }

    [Fact]
    public async Task OfflineNeverTouchesTheNetwork()
    {
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller(offline: true).PullAsync(R1Repo, new RecordingProgress()));
        Assert.Contains("HF_HUB_OFFLINE", ex.Message);
        Assert.Empty(_hub.Requests);

        await Puller().PullAsync(R1Repo, new RecordingProgress());
        int before = _hub.Requests.Count;
        var offline = await Puller(offline: true).PullAsync(R1Repo, new RecordingProgress());
        Assert.True(offline.AlreadyPresent);
        Assert.Equal(before, _hub.Requests.Count);
    }

    [Fact]
    public async Task RepoWithoutUsableFilesSaysWhatItFound()
    {
        _hub.AddFile("old/PyTorch-Only", "pytorch_model.bin", new byte[10]);
        _hub.AddFile("old/PyTorch-Only", "config.json", "{}"u8.ToArray());
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync("old/PyTorch-Only", new RecordingProgress()));
        Assert.Contains("no files Retort can use", ex.Message);
        Assert.Contains("pytorch_model.bin", ex.Message);
    }

    [Fact]
    public async Task FileNamesThatLeaveTheFolderAreRefused()
    {
        _hub.AddFile("evil/Repo", "../escape.gguf", new byte[10]);
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller().PullAsync("evil/Repo:Q8_0", new RecordingProgress()));
        Assert.Contains("unsafe file name '../escape.gguf'", ex.Message);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_root)!, "escape.gguf")));
    }

    private LocalStore Store => new(_root);

    private ModelPuller Puller(string? token = null, bool offline = false) =>
        new(Store, new HubSettings { Endpoint = _hub.Endpoint, Token = token, Offline = offline }, new RetryPolicy
        {
            Delay = (wait, _) =>
            {
                lock (_waits) _waits.Add(wait);
                return Task.CompletedTask;
            },
        });

    private static string Tiny(params string[] parts) => Fixtures.Path(["qwen2-tiny", .. parts]);

    private static long RangeStart(string? range)
    {
        Assert.NotNull(range);
        Assert.StartsWith("bytes=", range);
        Assert.EndsWith("-", range);
        return long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
