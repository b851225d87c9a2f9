using Retort.Engine;
using Retort.Hub.Hub;

namespace Retort.Hub.Tests;

/// <summary>Which files a pull takes, from listings written out by hand.</summary>
public sealed class PullPlanTests
{
    [Fact]
    public void TagMatchesWholeTagsOnly()
    {
        var listing = Listing("m-Q4_K.gguf", "m-Q4_K_M.gguf", "m-IQ4_XS.gguf", "m.Q8_0.gguf");
        Assert.Equal("m-Q4_K.gguf", Plan("o/m:Q4_K", listing).ModelFile);
        Assert.Equal("m-Q4_K_M.gguf", Plan("o/m:q4_k_m", listing).ModelFile);
        Assert.Equal("m.Q8_0.gguf", Plan("o/m:Q8_0", listing).ModelFile);
        var ex = Assert.Throws<RetortException>(() => Plan("o/m:Q4_XS", listing));
        Assert.Contains("available tags: IQ4_XS, Q4_K, Q4_K_M, Q8_0", ex.Message);
    }

    [Fact]
    public void WithoutQ4KMTheFirstGgufIsTaken()
    {
        var plan = Plan("o/m", Listing("b-Q8_0.gguf", "a-F16.gguf"));
        Assert.Equal("a-F16.gguf", plan.ModelFile);
        Assert.Equal("F16", plan.Tag);
    }

    [Fact]
    public void SafetensorsWinWithoutATagAndATagNeedsGgufs()
    {
        var listing = Listing("config.json", "tokenizer.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
            "model.safetensors.index.json", "consolidated.safetensors", "original/model.safetensors", "m-Q8_0.gguf");
        var plan = Plan("o/m", listing);
        Assert.Equal("", plan.ModelFile);
        Assert.Equal(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json"],
            plan.Files.Select(f => f.Path).Order(StringComparer.Ordinal));

        var ex = Assert.Throws<RetortException>(() => Plan("o/m:Q8_0", Listing("config.json", "tokenizer.json", "model.safetensors")));
        Assert.Contains("has no .gguf files", ex.Message);
    }

    [Fact]
    public void IncompleteSplitIsRefused()
    {
        var ex = Assert.Throws<RetortException>(() => Plan("o/m:Q8_0", Listing("m-Q8_0-00001-of-00003.gguf", "m-Q8_0-00003-of-00003.gguf")));
        Assert.Contains("expected 3 parts, missing part(s) 2", ex.Message);
    }

    [Fact]
    public void NamesParseAsAliasesReposAndTags()
    {
        Assert.True(ModelReference.TryParse("Qwen2.5:0.5B", out var alias));
        Assert.Equal(("qwen2.5:0.5b", "Qwen/Qwen2.5-0.5B-Instruct", (string?)null), (alias.Name, alias.Repo, alias.Tag));
        Assert.True(ModelReference.TryParse("unsloth/DeepSeek-R1-Distill-Qwen-1.5B-GGUF:Q4_K_M", out var tagged));
        Assert.Equal(("unsloth/DeepSeek-R1-Distill-Qwen-1.5B-GGUF", "Q4_K_M"), (tagged.Repo, tagged.Tag));
        Assert.False(ModelReference.TryParse("a/b/c", out _));
        Assert.Contains("did you mean deepseek-r1:1.5b", Assert.Throws<RetortException>(() => ModelReference.Parse("deepseek-r1:1.5")).Message);
        Assert.Contains("expected a catalog alias", Assert.Throws<RetortException>(() => ModelReference.Parse("a/b/c")).Message);
    }

    [Fact]
    public void SettingsComeFromTheGivenEnvironment()
    {
        var env = new Dictionary<string, string?> { ["HF_ENDPOINT"] = "http://mirror.local:8080/", ["HF_TOKEN"] = " hf_x ", ["HF_HUB_OFFLINE"] = "true" };
        var s = HubSettings.FromEnvironment(name => env.GetValueOrDefault(name));
        Assert.Equal(("http://mirror.local:8080", "hf_x", true), (s.Endpoint, s.Token, s.Offline));

        var none = HubSettings.FromEnvironment(_ => null);
        Assert.Equal((HubSettings.DefaultEndpoint, (string?)null, false), (none.Endpoint, none.Token, none.Offline));
        Assert.True(none.WithOffline(true).Offline);
        Assert.False(HubSettings.FromEnvironment(n => n == "HF_HUB_OFFLINE" ? "0" : null).Offline);
    }

    [Fact]
    public void WithoutHfTokenTheLoginTokenFileIsRead()
    {
        string home = Path.Combine(Path.GetTempPath(), "retort-tests", Guid.NewGuid().ToString("N"));
        try
        {
            // Where `hf auth login` writes it by default: ~/.cache/huggingface/token.
            Directory.CreateDirectory(Path.Combine(home, ".cache", "huggingface"));
            File.WriteAllText(Path.Combine(home, ".cache", "huggingface", "token"), "hf_from_login\n");
            var env = new Dictionary<string, string?> { ["HOME"] = home };
            Assert.Equal("hf_from_login", HubSettings.FromEnvironment(name => env.GetValueOrDefault(name)).Token);

            // HF_TOKEN wins over the file; HF_HOME and HF_TOKEN_PATH move the file.
            env["HF_TOKEN"] = "hf_env";
            Assert.Equal("hf_env", HubSettings.FromEnvironment(name => env.GetValueOrDefault(name)).Token);
            env.Remove("HF_TOKEN");
            env["HF_HOME"] = Path.Combine(home, "hf");
            Assert.Null(HubSettings.FromEnvironment(name => env.GetValueOrDefault(name)).Token);
            Directory.CreateDirectory(Path.Combine(home, "hf"));
            File.WriteAllText(Path.Combine(home, "hf", "token"), "hf_home_token");
            Assert.Equal("hf_home_token", HubSettings.FromEnvironment(name => env.GetValueOrDefault(name)).Token);
            env["HF_TOKEN_PATH"] = "~/elsewhere";
            File.WriteAllText(Path.Combine(home, "elsewhere"), "  hf_path_token  ");
            Assert.Equal("hf_path_token", HubSettings.FromEnvironment(name => env.GetValueOrDefault(name)).Token);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static PullPlan Plan(string name, RepoListing listing) => PullPlan.Create(ModelReference.Parse(name), listing);

    private static RepoListing Listing(params string[] paths) =>
        new("o/m", "c0ffee", paths.Select(p => new HubFile(p, 10, null)).ToList());
}
