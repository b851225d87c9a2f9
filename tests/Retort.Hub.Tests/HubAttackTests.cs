using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Retort.Engine;
using Retort.Hub.Hub;
using Retort.Hub.Pull;
using Retort.Hub.Store;
using Retort.Tests.Support;

namespace Retort.Hub.Tests;

/// <summary>
/// A hostile or broken hub (the fake hub on 127.0.0.1, told to misbehave): every attack ends in one clear
/// <see cref="RetortException"/> line within seconds, and leaves nothing in the store but its lock files.
/// Timeouts are seconds here so the stalls are noticed quickly.
/// </summary>
public sealed class HubAttackTests : IAsyncLifetime
{
    private const string Repo = "someone/Tiny-GGUF";
    private const string File1 = "tiny-Q8_0.gguf";
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(25);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "retort-attack-" + Guid.NewGuid().ToString("N"));
    private readonly byte[] _model = RandomNumberGenerator.GetBytes(40_000);
    private FakeHub _hub = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.AddFile(Repo, File1, _model);
        _hub.AddFile(Repo, "README.md", "# tiny"u8.ToArray());
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(25)]
    public async Task StalledListingIsRetriedThenNamesTheUrlAndTheTimeout(int afterBytes)
    {
        _hub.StallListing(afterBytes);
        var ex = await PullFails(Repo);
        Assert.Contains($"{_hub.Endpoint}/api/models/{Repo}/revision/main", ex.Message);
        Assert.Contains("no data for 1 s", ex.Message);
        Assert.Contains("after 2 attempts", ex.Message);
        Assert.Equal(2, _hub.Requests.Count(r => r.Path.StartsWith("/api/models/", StringComparison.Ordinal)));
        AssertNothingLeft();
    }

    [Fact]
    public async Task HubThatNeverAnswersTimesOut()
    {
        _hub.NeverAnswer("/api/models/");
        var ex = await PullFails(Repo);
        Assert.Contains("did not answer", ex.Message);
        Assert.Contains("no data for 1 s", ex.Message);
        Assert.Contains("/api/models/", ex.Message);
        AssertNothingLeft();

        // The same for a file whose request is never answered.
        var hub = await FakeHub.StartAsync();
        await using (hub.ConfigureAwait(false))
        {
            hub.AddFile(Repo, File1, _model);
            hub.NeverAnswer("/resolve/");
            ex = await PullFails(Repo, endpoint: hub.Endpoint);
            Assert.Contains($"{File1} of {Repo}", ex.Message);
            Assert.Contains("did not answer", ex.Message);
            AssertNothingLeft();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HugeListingIsRefusedAtItsCap(bool declareLength)
    {
        _hub.HugeListing(65L << 20, declareLength);
        var ex = await PullFails(Repo);
        Assert.Contains("over the limit of 67108864 bytes (64 MiB)", ex.Message);
        Assert.Contains($"{_hub.Endpoint}/api/models/{Repo}", ex.Message);
        AssertNothingLeft();
    }

    [Fact]
    public async Task ListingWithTooManyFilesIsRefused()
    {
        var siblings = Enumerable.Range(0, 51).Select(i => new { rfilename = $"f{i}.txt", size = 1 });
        _hub.RawListing(JsonSerializer.Serialize(new { sha = FakeHub.Commit, siblings }));
        var ex = await PullFails(Repo, s => new HubSettings
        {
            Endpoint = s.Endpoint, ReadTimeout = s.ReadTimeout, ThroughputWindow = s.ThroughputWindow, MaxListingFiles = 50,
        });
        Assert.Contains("names 51 files, over the limit of 50", ex.Message);
        AssertNothingLeft();
    }

    /// <summary>
    /// A byte now and then never trips the read timeout (1 byte per 200 ms) but misses the pace; a byte every 3 s
    /// trips it (with a window long enough that the pace is not judged first); 512 bytes per 900 ms meets the pace
    /// in some windows and misses it in others, on every new connection. All are stalls.
    /// </summary>
    [Theory]
    [InlineData(1, 200, 1, "below the minimum of 1024 bytes per 1 s")]
    [InlineData(1, 3000, 10, "no data for 1 s")]
    [InlineData(512, 900, 1, "below the minimum of 1024 bytes per 1 s")]
    public async Task TricklingBodyIsAStall(int bytes, int everyMs, int windowSeconds, string reason)
    {
        _hub.Trickle(File1, bytes, TimeSpan.FromMilliseconds(everyMs));
        var ex = await PullFails(Repo, s => new HubSettings
        {
            Endpoint = s.Endpoint, ReadTimeout = s.ReadTimeout, ThroughputWindow = TimeSpan.FromSeconds(windowSeconds),
        });
        Assert.Contains($"download of {File1} from {Repo}", ex.Message);
        Assert.Contains($"{_hub.Endpoint}/cdn/{Repo}/{File1} stalled", ex.Message);
        Assert.Contains(reason, ex.Message);
        AssertNothingLeft();
    }

    [Fact]
    public async Task SlowButSteadyTransferRunsLongerThanEveryTimeout()
    {
        // 4 KiB every 250 ms: 40 KB take 2.5 s, over the 1 s read timeout and throughput window, at 16 KiB per window.
        _hub.Trickle(File1, 4096, TimeSpan.FromMilliseconds(250));
        var oneSecondWindow = Puller(s => new HubSettings { Endpoint = s.Endpoint, ReadTimeout = s.ReadTimeout, ThroughputWindow = TimeSpan.FromSeconds(1) });
        var result = await oneSecondWindow.PullAsync(Repo + ":Q8_0", new RecordingProgress()).WaitAsync(HangBound);
        Assert.Equal(_model, File.ReadAllBytes(result.ModelPath));
        Assert.Single(_hub.RequestsFor(File1), r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("file:///etc/passwd", "file")]
    [InlineData("ftp://example.com/model.gguf", "ftp")]
    [InlineData("javascript:alert(1)", "javascript")]
    public async Task RedirectToAForeignSchemeIsRefused(string location, string scheme)
    {
        _hub.Redirect(File1, location);
        var ex = await PullFails(Repo);
        Assert.Contains($"the hub redirected {_hub.Endpoint}/{Repo}/resolve/{FakeHub.Commit}/{File1}", ex.Message);
        Assert.Contains($"to unsupported scheme '{scheme}'", ex.Message);
        AssertNothingLeft();
    }

    [Theory]
    [InlineData("/loop", "a redirect loop")]
    [InlineData("/chain/0", "more than 10 times")]
    public async Task RedirectLoopsAndEndlessChainsAreBounded(string location, string expected)
    {
        _hub.Redirect(File1, location);
        var ex = await PullFails(Repo);
        Assert.Contains(expected, ex.Message);
        Assert.Contains(File1, ex.Message);
        Assert.InRange(_hub.Requests.Count(r => r.Path.StartsWith("/loop", StringComparison.Ordinal) || r.Path.StartsWith("/chain/", StringComparison.Ordinal)), 1, 10);
        AssertNothingLeft();
    }

    [Fact]
    public void RedirectFromHttpsDownToHttpIsRefused()
    {
        var down = Assert.Throws<RetortException>(() =>
            HubClient.CheckRedirect(new Uri("https://huggingface.co/o/m/resolve/main/x.gguf"), new Uri("http://cdn.example/x.gguf?sig=1"), "x.gguf of o/m"));
        Assert.Contains("from https to plain http (http://cdn.example/x.gguf)", down.Message);
        Assert.DoesNotContain("sig=1", down.Message);
        Assert.Null(Record.Exception(() => HubClient.CheckRedirect(new Uri("https://huggingface.co/a"), new Uri("https://cdn.example/b"), "b")));
        Assert.Null(Record.Exception(() => HubClient.CheckRedirect(new Uri("http://127.0.0.1/a"), new Uri("https://cdn.example/b"), "b")));
    }

    public static TheoryData<string, string> UnsafeNames => new()
    {
        { new string('a', 300) + ".gguf", "a segment is 305 bytes long, over the 255" },
        { string.Concat(Enumerable.Repeat("é", 128)) + ".gguf", "a segment is 261 bytes long" },
        { string.Join('/', Enumerable.Repeat(new string('d', 250), 5)) + "/x.gguf", "bytes long, over the limit of 1024" },
        { "../x.gguf", "a '..' segment" },
        { "sub/../../x.gguf", "a '..' segment" },
        { "./x.gguf", "a '.' segment" },
        { "a//x.gguf", "an empty segment" },
        { "sub/", "an empty segment" },
        { "/etc/passwd", "an absolute path" },
        { "C:/x.gguf", "an absolute path" },
        { "a\\b.gguf", "a backslash" },
        { "x\u0001.gguf", "a control character" },
        { "x.gguf\n", "a control character" },
        { "x\u007f\u009b.gguf", "a control character" },
        { "", "it is empty" },
    };

    [Theory]
    [MemberData(nameof(UnsafeNames))]
    public async Task UnsafeFileNamesAreRefusedBeforeAnyFolderIsMade(string name, string problem)
    {
        _hub.AddFile("evil/Repo", name, new byte[10]);
        _hub.AddFile("evil/Repo", "good-Q8_0.gguf", new byte[10]);
        var ex = await PullFails("evil/Repo");
        Assert.Contains("unsafe file name '", ex.Message);
        Assert.Contains(problem, ex.Message);
        Assert.Contains($"the file listing of evil/Repo from {_hub.Endpoint}/api/models/evil/Repo", ex.Message);
        Assert.DoesNotContain(ex.Message, c => char.IsControl(c));
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("/resolve/", StringComparison.Ordinal));
        AssertNothingLeft();
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_root)!, "x.gguf")));
    }

    [Fact]
    public async Task AFileNameOfTheFull255BytesIsPulled()
    {
        string name = new string('x', 250) + ".gguf";
        _hub.AddFile("long/Names", name, _model);
        var result = await Puller().PullAsync("long/Names", new RecordingProgress()).WaitAsync(HangBound);
        Assert.Equal(name, Path.GetFileName(result.ModelPath));
        Assert.Equal(_model, File.ReadAllBytes(result.ModelPath));
    }

    public static TheoryData<string, string> MalformedListings => new()
    {
        { """{"sha":"0123456789abcdef0123456789abcdef01234567","siblings":[{"rfilename":"a.gguf","size":1},{"rfilename":"a.gguf","size":1}]}""", "file 'a.gguf' is listed twice" },
        { """{"sha":"0123456789abcdef0123456789abcdef01234567","siblings":[{"rfilename":"m","size":1},{"rfilename":"m/x.gguf","size":1}]}""", "'m' is listed both as a file and as the folder of 'm/x.gguf'" },
        { """{"sha":"../../etc\u0007","siblings":[]}""", "'sha' is '../../etc\\u0007', expected a commit id" },
        { """{"sha":"0123456789abcdef0123456789abcdef01234567","siblings":[{"rfilename":"a.gguf","size":9000000000000000000}]}""", "over the limit of 1099511627776 (1 TiB)" },
        { """{"sha":"0123456789abcdef0123456789abcdef01234567","siblings":[{"rfilename":"a.gguf","size":-5}]}""", "has no size" },
        { """{"sha":"0123456789abcdef0123456789abcdef01234567","siblings":[{"rfilename":7,"size":1}]}""", "is not the expected JSON" },
        { """[1,2,3]""", "is a JSON Array: expected the hub's model info object" },
        { """{"siblings":{"a":1}}""", "has no 'siblings' array" },
        { """{"siblings":[""", "is not the expected JSON" },
    };

    [Theory]
    [MemberData(nameof(MalformedListings))]
    public async Task MalformedListingsAreOneLineErrors(string json, string expected)
    {
        _hub.RawListing(json);
        var ex = await PullFails(Repo);
        Assert.Contains(expected, ex.Message);
        Assert.Contains($"the file listing of {Repo}", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        AssertNothingLeft();
    }

    [Fact]
    public async Task UnpairedSurrogateInANameIsRefused()
    {
        _hub.RawListing("""{"siblings":[{"rfilename":"x\ud800.gguf","size":1}]}""");
        var ex = await PullFails(Repo);
        Assert.True(ex.Message.Contains("is not the expected JSON") || ex.Message.Contains("malformed (unpaired surrogate)"), ex.Message);
        AssertNothingLeft();
    }

    [Fact]
    public void DownloadTimeoutComesFromTheEnvironmentAndBadValuesAreRefused()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), HubSettings.FromEnvironment(_ => null).ReadTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2.5), HubSettings.FromEnvironment(n => n == "HF_HUB_DOWNLOAD_TIMEOUT" ? "2.5" : null).ReadTimeout);
        foreach (string bad in new[] { "abc", "0", "-3", "NaN", "1e9" })
        {
            var ex = Assert.Throws<RetortException>(() => HubSettings.FromEnvironment(n => n == "HF_HUB_DOWNLOAD_TIMEOUT" ? bad : null));
            Assert.Contains($"HF_HUB_DOWNLOAD_TIMEOUT is '{bad}'", ex.Message);
        }
    }

    private LocalStore Store => new(_root);

    /// <summary>
    /// A read timeout of 1 s and a throughput window of 3 s (longer, so that a stopped transfer is always judged
    /// by the read timeout, not by the pace of the window that happens to end first), two attempts, no waiting.
    /// </summary>
    private HubSettings Settings(string? endpoint = null) => new()
    {
        Endpoint = endpoint ?? _hub.Endpoint,
        ReadTimeout = TimeSpan.FromSeconds(1),
        ThroughputWindow = TimeSpan.FromSeconds(3),
    };

    private ModelPuller Puller(Func<HubSettings, HubSettings>? adjust = null, string? endpoint = null) =>
        new(Store, (adjust ?? (s => s))(Settings(endpoint)), new RetryPolicy { MaxAttempts = 2, Delay = (_, _) => Task.CompletedTask });

    private async Task<RetortException> PullFails(string name, Func<HubSettings, HubSettings>? adjust = null, string? endpoint = null)
    {
        var ex = await Assert.ThrowsAsync<RetortException>(() => Puller(adjust, endpoint).PullAsync(name, new RecordingProgress()).WaitAsync(HangBound));
        Assert.DoesNotContain('\n', ex.Message);
        return ex;
    }

    /// <summary>No model, no staging, no empty folder: only the lock files a pull keeps by design.</summary>
    private void AssertNothingLeft()
    {
        Assert.Empty(Store.List());
        var left = Directory.Exists(_root)
            ? Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories)
                .Where(e => !e.StartsWith(Store.LocksDir, StringComparison.Ordinal)).ToList()
            : [];
        Assert.Empty(left);
    }
}
