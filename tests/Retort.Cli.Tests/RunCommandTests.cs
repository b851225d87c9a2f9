using System.Text.Json;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

public sealed class RunCommandTests
{
    private static JsonElement ChatReference(string model, int index)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path(model, "reference", "tokenizer.json")));
        return doc.RootElement.GetProperty("chat")[index].Clone();
    }

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    [Theory]
    [InlineData("gguf/qwen2-tiny-f32.gguf")]
    [InlineData("hf")]
    public void OneShotJsonCarriesTheTemplatedPromptAndTheGreedyContinuation(string source)
    {
        // The third reference prompt is the first chat conversation rendered with the R1 template,
        // so the CLI must reproduce both its token ids and transformers' greedy continuation.
        var chat = ChatReference("qwen2-tiny", 0);
        string question = chat.GetProperty("messages")[0].GetProperty("content").GetString()!;
        // transformers' greedy continuation of the f32 model (made by tools/reference/make_reference.py).
        using var gen = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "Data", "qwen2-tiny-f32-generation.json")));
        int[] greedy = Ints(gen.RootElement.GetProperty("prompts")[2].GetProperty("greedy_24"));

        var (code, stdout, stderr) = CliRunner.Run("run", Fixtures.Path("qwen2-tiny", source), "-p", question,
            "--temp", "0", "-n", "24", "--ignore-eos", "--json");

        Assert.True(code == 0, stderr);
        using var result = JsonDocument.Parse(stdout);
        var root = result.RootElement;
        Assert.Equal(Ints(chat.GetProperty("ids")), Ints(root.GetProperty("prompt_tokens")));
        Assert.Equal(greedy, Ints(root.GetProperty("tokens")));
        Assert.Equal("length", root.GetProperty("finish_reason").GetString());
        foreach (string key in new[] { "text", "reasoning", "answer" })
            Assert.Equal(JsonValueKind.String, root.GetProperty(key).ValueKind);
        Assert.True(root.GetProperty("timings").GetProperty("generation_tokens_per_second").GetDouble() > 0);
    }

    [Fact]
    public void RawModeSkipsTheTemplate()
    {
        var (code, stdout, stderr) = CliRunner.Run("run", Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"),
            "-p", "Hello world", "--raw", "--temp", "0", "-n", "3", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        // Reference tokenization of "Hello world" (no BOS is added by this tokenizer's post-processor).
        Assert.Equal([39, 68, 75, 75, 78, 220, 86, 78, 81, 75, 67], Ints(doc.RootElement.GetProperty("prompt_tokens")));
    }

    [Fact]
    public void SamplingWithASeedIsRepeatable()
    {
        string model = Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf");
        string[] args = ["run", model, "-p", "hi", "--seed", "7", "--temp", "1.0", "-n", "12", "--ignore-eos", "--json"];
        var a = CliRunner.Run(args);
        var b = CliRunner.Run(args);
        Assert.Equal(0, a.ExitCode);
        using var da = JsonDocument.Parse(a.Out);
        using var db = JsonDocument.Parse(b.Out);
        Assert.Equal(Ints(da.RootElement.GetProperty("tokens")), Ints(db.RootElement.GetProperty("tokens")));
        Assert.Equal(12, da.RootElement.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void StopStringsEndTheAnswerWithoutAppearingInIt()
    {
        string model = Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf");
        var full = CliRunner.Run("run", model, "-p", "hi", "--temp", "0", "-n", "24", "--ignore-eos", "--json");
        using var fullDoc = JsonDocument.Parse(full.Out);
        string text = fullDoc.RootElement.GetProperty("text").GetString()!;
        Assert.True(text.Length > 6, "the continuation is long enough to cut");
        string stop = text.Substring(text.Length / 2, 2);
        int at = text.IndexOf(stop, StringComparison.Ordinal);

        var cut = CliRunner.Run("run", model, "-p", "hi", "--temp", "0", "-n", "24", "--ignore-eos", "--json", "--stop", stop);
        using var cutDoc = JsonDocument.Parse(cut.Out);
        Assert.Equal(text[..at], cutDoc.RootElement.GetProperty("text").GetString());
        Assert.Equal("stop", cutDoc.RootElement.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void InteractiveChatUnderstandsSlashCommands()
    {
        string model = Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-q8_0.gguf");
        var (code, stdout, stderr) = CliRunner.RunWithInput("hello\n/set temperature 0.3\n/set top_p 2\n/show\nsecond turn\n/clear\n/bye\n",
            "run", model, "-n", "5");
        Assert.Equal(0, code);
        Assert.Contains("Set temperature to 0.3.", stdout);
        Assert.Contains("temperature 0.3", stdout);
        Assert.Contains("top-p must be in (0, 1]", stderr);
        Assert.Contains("Cleared the conversation.", stdout);
    }

    [Fact]
    public void HideThinkingPrintsOnlyTheAnswer()
    {
        string model = Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf");
        var shown = CliRunner.Run("run", model, "-p", "hi", "--temp", "0", "-n", "10", "--ignore-eos");
        var hidden = CliRunner.Run("run", model, "-p", "hi", "--temp", "0", "-n", "10", "--ignore-eos", "--hide-thinking");
        Assert.Equal(0, shown.ExitCode);
        // The R1 template opens <think>, so without a </think> in 10 tokens everything is reasoning.
        Assert.Contains("Thinking...", shown.Out);
        Assert.DoesNotContain("Thinking...", hidden.Out);
        Assert.True(hidden.Out.Trim().Length < shown.Out.Trim().Length);
    }

    [Fact]
    public void WithoutAModelRunUsesTheBuiltInTinyModel()
    {
        var (code, stdout, stderr) = CliRunner.Run("run", "-p", "鸡兔同笼，共有10个头，28只脚，鸡有几只？", "--temp", "0", "-n", "16", "--json");

        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "models", "retort-tiny-r1.gguf"), root.GetProperty("model").GetString());
        Assert.True(File.Exists(root.GetProperty("model").GetString()));
        // models/retort-tiny-tokenizer: BOS is 759, <｜Assistant｜> 758 and <think> 760; R1's template opens the thought.
        int[] prompt = Ints(root.GetProperty("prompt_tokens"));
        Assert.Equal(759, prompt[0]);
        Assert.Equal([758, 760], prompt[^3..^1]);
        int generated = root.GetProperty("tokens").GetArrayLength();
        Assert.InRange(generated, 1, 16);
    }
}
