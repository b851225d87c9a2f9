using System.Text.Json;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

/// <summary>
/// How run, show, serve and distill generate bind --ctx and --kv-budget and state the plan. qwen2-tiny was trained
/// on 4096 positions, and an f32 position of its 2 layers · 2 KV heads · head size 64 takes 2048 bytes: 8 MiB in all.
/// The tests ask for f32 to keep that arithmetic; one checks the default type (q8_0: 272 bytes a position).
/// </summary>
public sealed class ContextPlanCommandTests
{
    private static string Tiny => Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf");

    private static JsonElement RunJson(params string[] extra)
    {
        var (code, stdout, stderr) = CliRunner.Run(["run", Tiny, "-p", "hi", "--temp", "0", "-n", "2", "--json", "--cache-type", "f32", .. extra]);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.GetProperty("context").Clone();
    }

    [Fact]
    public void RunStatesTheTrainedContextOnStderrAndInTheJson()
    {
        var (code, stdout, stderr) = CliRunner.Run("run", Tiny, "-p", "hi", "--temp", "0", "-n", "2", "--json", "--cache-type", "f32");
        Assert.True(code == 0, stderr);
        Assert.Equal("context 4096 (the model's), KV cache f32 up to 8 MiB", stderr.Trim());
        // Stdout stays one JSON object.
        using var doc = JsonDocument.Parse(stdout);
        var context = doc.RootElement.GetProperty("context");
        Assert.Equal(4096, context.GetProperty("context").GetInt32());
        Assert.Equal(4096, context.GetProperty("trained_context").GetInt32());
        Assert.False(context.GetProperty("capped").GetBoolean());
        Assert.Equal(2048, context.GetProperty("kv_bytes_per_token").GetInt64());
        Assert.Equal(8L << 20, context.GetProperty("kv_bytes_max").GetInt64());
        Assert.Equal(JsonValueKind.Null, context.GetProperty("warning").ValueKind);

        // --ctx 0 is the default, as in serve and distill generate.
        Assert.Equal(4096, RunJson("--ctx", "0").GetProperty("context").GetInt32());
    }

    [Fact]
    public void TheDefaultCacheTypeIsQ8_0()
    {
        // 2 layers · 2 KV heads · (keys + values) · 2 blocks of 34 bytes = 544 bytes a position; 4096 of them 2.1 MiB.
        var (code, stdout, stderr) = CliRunner.Run("run", Tiny, "-p", "hi", "--temp", "0", "-n", "2", "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("context 4096 (the model's), KV cache q8_0 up to 2.1 MiB", stderr.Trim());
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(544, doc.RootElement.GetProperty("context").GetProperty("kv_bytes_per_token").GetInt64());
    }

    [Fact]
    public void InteractiveRunStatesThePlanAtStart()
    {
        var (code, stdout, stderr) = CliRunner.RunWithInput("/bye\n", "run", Tiny, "--ctx", "1024", "--cache-type", "f32");
        Assert.Equal(0, code);
        Assert.Equal("context 1024 (--ctx), KV cache f32 up to 2 MiB", stderr.Trim());
        Assert.DoesNotContain("KV cache", stdout);
    }

    [Fact]
    public void APromptThatFailsGetsOnlyItsErrorLine()
    {
        var (code, _, stderr) = CliRunner.Run("run", Tiny, "-p", string.Join(' ', Enumerable.Repeat("word", 300)), "--ctx", "64");
        Assert.Equal(1, code);
        string line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("error: the conversation needs", line);
        Assert.Contains("64", line);
    }

    [Fact]
    public void AContextAboveTheTrainedOneWarnsOnStderrAndRuns()
    {
        var (code, stdout, stderr) = CliRunner.Run("run", Tiny, "-p", "hi", "--temp", "0", "-n", "2", "--json", "--ctx", "8192", "--cache-type", "f32");
        Assert.True(code == 0, stderr);
        string[] lines = stderr.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("warning: --ctx 8192 is above the 4096 positions the model was trained on", lines[0]);
        Assert.Equal("context 8192 (--ctx), KV cache f32 up to 16 MiB", lines[1]);
        using var doc = JsonDocument.Parse(stdout);
        var context = doc.RootElement.GetProperty("context");
        Assert.Equal(8192, context.GetProperty("context").GetInt32());
        Assert.StartsWith("warning: --ctx 8192", context.GetProperty("warning").GetString());
    }

    [Fact]
    public void AKvBudgetCapsTheDefaultContext()
    {
        // 1 MiB holds 512 positions of 2048 bytes: two pages.
        var context = RunJson("--kv-budget", "1MiB");
        Assert.Equal(512, context.GetProperty("context").GetInt32());
        Assert.True(context.GetProperty("capped").GetBoolean());
        Assert.Equal(1L << 20, context.GetProperty("kv_budget_bytes").GetInt64());
        Assert.StartsWith("context 512 (the model's 4096 would need a 8 MiB KV cache, more than the 1 MiB budget (--kv-budget)",
            context.GetProperty("statement").GetString());
    }

    [Theory]
    [InlineData("--ctx", "1", "--ctx must be 0 (the model's trained context, within the KV budget) or at least 2, found 1")]
    [InlineData("--ctx", "-3", "found -3")]
    [InlineData("--kv-budget", "lots", "--kv-budget must be a size such as 512MiB, 4GiB or 2G (bytes without a unit), found 'lots'")]
    [InlineData("--kv-budget", "100KiB", "--kv-budget 0.1 MiB holds less than one page of the KV cache (256 positions of f32 take 0.5 MiB)")]
    public void BadContextSettingsAreOneLineErrors(string flag, string value, string expected)
    {
        foreach (string command in new[] { "run", "serve" })
        {
            string[] args = command == "run" ? ["run", Tiny, "-p", "hi", flag, value, "--cache-type", "f32"] : ["serve", Tiny, "--port", "0", flag, value, "--cache-type", "f32"];
            var (code, _, stderr) = CliRunner.Run(args);
            Assert.Equal(1, code);
            string line = Assert.Single(stderr.Trim().Split('\n'));
            Assert.StartsWith("error: ", line);
            Assert.Contains(expected, line);
        }
    }

    [Fact]
    public void DistillGenerateTakesTheSameContextRules()
    {
        var dir = Directory.CreateTempSubdirectory("retort-ctx-");
        try
        {
            string prompts = Path.Combine(dir.FullName, "tasks.jsonl");
            File.WriteAllText(prompts, """{"id":"a","prompt":"hi"}""" + "\n");
            var (code, _, stderr) = CliRunner.Run("distill", "generate", "--teacher", Tiny, "--prompts", prompts,
                "--out", Path.Combine(dir.FullName, "out.jsonl"), "--ctx", "1");
            Assert.Equal(1, code);
            Assert.StartsWith("error: --ctx must be 0 (the model's trained context, within the KV budget) or at least 2, found 1", stderr);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ShowStatesWhatRunWouldUse()
    {
        var (code, stdout, stderr) = CliRunner.Run("show", Tiny, "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var plan = doc.RootElement.GetProperty("default_context");
        Assert.Equal(4096, plan.GetProperty("context").GetInt32());
        Assert.Equal("q8_0", plan.GetProperty("key_type").GetString());
        Assert.Equal("context 4096 (the model's), KV cache q8_0 up to 2.1 MiB", plan.GetProperty("statement").GetString());

        var table = CliRunner.Run("show", Tiny);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("default context", table.Out);
        Assert.Contains("context 4096 (the model's), KV cache q8_0 up to 2.1 MiB", table.Out);
    }

    [Fact]
    public void ServeBindsTheContextAndTheBudgetOntoTheServerOptions()
    {
        var flags = new Commands.ServerOptionSet();
        var command = new System.CommandLine.Command("serve");
        flags.AddTo(command);
        var options = flags.Read(command.Parse(["--ctx", "0", "--kv-budget", "2GiB"]));
        Assert.Equal(0, options.ContextSize);
        Assert.Equal(2L << 30, options.KvBudgetBytes);
        var defaults = flags.Read(command.Parse([]));
        Assert.Equal(0, defaults.ContextSize);
        Assert.Null(defaults.KvBudgetBytes);
        var (code, stdout, _) = CliRunner.Run("serve", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--kv-budget", stdout);
    }
}
