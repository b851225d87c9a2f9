using System.Text.Json;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

/// <summary>retort pull, and run/show pulling on first use, against the fake hub; the environment is injected, not set.</summary>
public sealed class PullCommandTests : IAsyncLifetime
{
    private const string R1Repo = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B";
    private const string GgufRepo = "someone/Tiny-GGUF";
    private readonly string _home = Path.Combine(Path.GetTempPath(), "retort-home-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string?> _env = [];
    private FakeHub _hub = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.AddFolder(R1Repo, Fixtures.Path("qwen2-tiny", "hf"));
        _hub.AddFile(GgufRepo, "tiny-Q8_0.gguf", File.ReadAllBytes(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf")));
        _hub.AddFile(GgufRepo, "tiny-F16.gguf", File.ReadAllBytes(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f16.gguf")));
        _env["RETORT_HOME"] = _home;
        _env["HF_ENDPOINT"] = _hub.Endpoint;
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        if (Directory.Exists(_home)) Directory.Delete(_home, true);
    }

    [Fact]
    public void PulledAliasRunsOfflineLikeTheFolderItCameFrom()
    {
        var (code, output, err) = Retort("pull", "deepseek-r1:1.5b");
        Assert.True(code == 0, err);
        Assert.Contains($"pulling {R1Repo} (revision 0123456789ab): 6 files", output);
        Assert.Contains("verified model.safetensors (5.5 MiB, sha256)", output);
        Assert.Contains("verified config.json (785 B, size)", output);
        Assert.Contains("pulled deepseek-r1:1.5b", output);
        Assert.Contains("deepseek-r1:1.5b", Retort("list").Out);

        int requests = _hub.Requests.Count;
        string[] args = ["-p", "Hello world", "--raw", "-n", "4", "--temp", "0", "--ignore-eos"];
        var pulled = Retort(["run", "deepseek-r1:1.5b", .. args, "--offline"]);
        var direct = Retort(["run", Fixtures.Path("qwen2-tiny", "hf"), .. args]);
        Assert.True(pulled.ExitCode == 0, pulled.Err);
        Assert.Equal(direct.Out, pulled.Out);
        Assert.NotEmpty(pulled.Out.Trim());
        Assert.Equal(requests, _hub.Requests.Count);

        (code, output, _) = Retort("pull", "deepseek-r1:1.5b");
        Assert.Equal(0, code);
        Assert.Contains("deepseek-r1:1.5b is up to date (revision 0123456789ab)", output);
    }

    [Fact]
    public void ShowPullsAQuantTagOnFirstUseAndKeepsStdoutClean()
    {
        var (code, output, err) = Retort("show", GgufRepo + ":Q8_0", "--json");
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("qwen2", json.RootElement.GetProperty("architecture").GetString());
        Assert.EndsWith("tiny-Q8_0.gguf", json.RootElement.GetProperty("path").GetString());
        Assert.Contains("verified tiny-Q8_0.gguf", err);
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("tiny-F16"));
        Assert.Contains(GgufRepo + ":Q8_0", Retort("list").Out);
    }

    [Fact]
    public void OfflineFlagAndVariableRefuseToDownload()
    {
        var (code, _, err) = Retort("run", "deepseek-r1:1.5b", "-p", "hi", "--offline");
        AssertOneLineError(code, err, "--offline or HF_HUB_OFFLINE");
        _env["HF_HUB_OFFLINE"] = "1";
        (code, _, err) = Retort("show", R1Repo);
        AssertOneLineError(code, err, "not in the local store");
        (code, _, err) = Retort("pull", R1Repo);
        AssertOneLineError(code, err, "HF_HUB_OFFLINE");
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public void InterruptedPullIsNotListedAndTheNextPullResumes()
    {
        // The transfer drops at 3 MB; the retry is refused, so the pull ends with a partial file on disk.
        _hub.CutAt("model.safetensors", 3_000_000);
        _hub.Fail("/model.safetensors", 404, skip: 2);
        var (code, _, err) = Retort("pull", R1Repo);
        AssertOneLineError(code, err, "model.safetensors");
        Assert.DoesNotContain(R1Repo, Retort("list").Out);
        (code, _, err) = Retort("show", R1Repo, "--offline");
        AssertOneLineError(code, err, "not in the local store");

        _hub.Requests.Clear();
        _hub.ClearFailures();
        string output;
        (code, output, err) = Retort("pull", R1Repo);
        Assert.True(code == 0, err);
        Assert.Contains("resuming model.safetensors at ", output);
        var resumed = Assert.Single(_hub.RequestsFor("model.safetensors"), r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal));
        Assert.Matches("^bytes=[1-9][0-9]*-$", resumed.Range);
        Assert.Contains(R1Repo, Retort("list").Out);
        Assert.Equal(File.ReadAllBytes(Fixtures.Path("qwen2-tiny", "hf", "model.safetensors")),
            File.ReadAllBytes(Path.Combine(_home, "models", "deepseek-ai--deepseek-r1-distill-qwen-1.5b", "model.safetensors")));
    }

    [Fact]
    public void HubErrorsAreOneLine()
    {
        _hub.RequiredToken = "hf_secret";
        var (code, _, err) = Retort("pull", R1Repo);
        AssertOneLineError(code, err, "set HF_TOKEN");
        _env["HF_TOKEN"] = "hf_bad_token";
        (code, _, err) = Retort("pull", R1Repo);
        AssertOneLineError(code, err, "401");
        Assert.DoesNotContain("hf_bad_token", err);
        _env["HF_TOKEN"] = "hf_secret";

        (code, _, err) = Retort("pull", "nobody/Missing");
        AssertOneLineError(code, err, "repository 'nobody/Missing' (revision main) not found");
        (code, _, err) = Retort("pull", GgufRepo + ":Q2_K");
        AssertOneLineError(code, err, "available tags: F16, Q8_0");
        (code, _, err) = Retort("pull", "deepseek-r1:1.5");
        AssertOneLineError(code, err, "did you mean deepseek-r1:1.5b");

        _hub.Fail("/api/models/", 429, retryAfter: "0");
        (code, _, err) = Retort("pull", R1Repo);
        AssertOneLineError(code, err, "429 Too Many Requests");
        Assert.DoesNotContain(R1Repo, Retort("list").Out);
    }

    private (int ExitCode, string Out, string Err) Retort(params string[] args) => CliRunner.RunWithEnvironment(_env, args);

    private static void AssertOneLineError(int code, string stderr, string expectedFragment)
    {
        Assert.Equal(1, code);
        string[] lines = stderr.Trim().Split('\n');
        Assert.Single(lines, l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.StartsWith("error: ", lines[^1]);
        Assert.Contains(expectedFragment, lines[^1]);
        Assert.DoesNotContain("   at ", stderr);
    }
}
