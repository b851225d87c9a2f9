using System.Text.Json;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

/// <summary>--reasoning-budget and --reasoning-nudge on run and serve, and /set in the chat.</summary>
public sealed class ReasoningBudgetCommandTests
{
    private const int CloseTagId = 463;
    private static readonly string Model = Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf");

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>The first chat reference question: its R1 prompt is the third generation prompt, whose greedy thinking transformers wrote down.</summary>
    private static (string Question, int[] Greedy) Reference()
    {
        using var tok = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("qwen2-tiny", "reference", "tokenizer.json")));
        string question = tok.RootElement.GetProperty("chat")[0].GetProperty("messages")[0].GetProperty("content").GetString()!;
        using var gen = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "Data", "qwen2-tiny-f32-generation.json")));
        return (question, Ints(gen.RootElement.GetProperty("prompts")[2].GetProperty("greedy_24")));
    }

    private static JsonElement RunJson(params string[] extra)
    {
        var (question, _) = Reference();
        var (code, stdout, stderr) = CliRunner.Run(["run", Model, "-p", question, "--temp", "0", "-n", "90", "--ignore-eos", "--json", .. extra]);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.Clone();
    }

    [Fact]
    public void RunThinksForTheBudgetThenWritesTheNudgeAndAnswers()
    {
        var (_, greedy) = Reference();
        var root = RunJson("--reasoning-budget", "5");
        int[] tokens = Ints(root.GetProperty("tokens"));
        Assert.Equal(greedy[..5], tokens[..5]);
        Assert.Single(tokens, CloseTagId);
        Assert.Equal(5, root.GetProperty("reasoning_tokens").GetInt32());
        Assert.True(root.GetProperty("reasoning_budget_exhausted").GetBoolean());
        Assert.Equal("length", root.GetProperty("finish_reason").GetString());
        Assert.EndsWith("I have to give the answer now, based on my thinking so far.", root.GetProperty("reasoning").GetString());
        Assert.Contains("so far.\n</think>\n\n", root.GetProperty("text").GetString());

        var unlimited = RunJson();
        Assert.Equal(greedy, Ints(unlimited.GetProperty("tokens"))[..24]);
        Assert.False(unlimited.GetProperty("reasoning_budget_exhausted").GetBoolean());
    }

    [Fact]
    public void ANudgeOfYourOwnTakesBackslashNAsALineBreak()
    {
        var root = RunJson("--reasoning-budget", "2", "--reasoning-nudge", "\\nTime is up.\\n");
        Assert.EndsWith("Time is up.", root.GetProperty("reasoning").GetString());
        Assert.Contains("\nTime is up.\n</think>\n\n", root.GetProperty("text").GetString());

        var none = RunJson("--reasoning-budget", "2", "--reasoning-nudge", "");
        Assert.Equal(CloseTagId, Ints(none.GetProperty("tokens"))[2]);
    }

    [Fact]
    public void ABudgetOfZeroSkipsTheThinking()
    {
        var root = RunJson("--reasoning-budget", "0");
        Assert.Equal(CloseTagId, Ints(root.GetProperty("tokens"))[0]);
        Assert.Equal("", root.GetProperty("reasoning").GetString());
        Assert.Equal(0, root.GetProperty("reasoning_tokens").GetInt32());
    }

    [Theory]
    [InlineData("--reasoning-budget", "-5", "error: --reasoning-budget must be a number of tokens ≥ 0 (0: no thinking) or -1 (no limit), found -5")]
    [InlineData("--reasoning-nudge", "done</think>", "error: --reasoning-nudge must not contain the tag </think>")]
    [InlineData("--reasoning-budget", "lots", "--reasoning-budget must be a whole number of tokens (0: no thinking, -1: no limit), found 'lots'")]
    public void BadValuesAreOneLineErrorsOnRunAndServe(string flag, string value, string expected)
    {
        foreach (string command in new[] { "run", "serve" })
        {
            string[] args = command == "run" ? ["run", Model, "-p", "hi", flag, value] : ["serve", Model, "--port", "0", flag, value];
            var (code, _, stderr) = CliRunner.Run(args);
            Assert.NotEqual(0, code);
            Assert.Contains(expected, stderr);
            Assert.Contains("--reasoning-", stderr);
            Assert.Single(stderr.TrimEnd().Split('\n'));
        }
    }

    [Fact]
    public void ServeBindsTheFlagsAsTheServersDefault()
    {
        var flags = new Commands.ServerOptionSet();
        var command = new System.CommandLine.Command("serve");
        flags.AddTo(command);
        var options = flags.Read(command.Parse(["--reasoning-budget", "300", "--reasoning-nudge", "Wrap up.\\n"]));
        Assert.Equal(300, options.ReasoningBudget);
        Assert.Equal("Wrap up.\n", options.ReasoningNudge);
        var defaults = flags.Read(command.Parse([]));
        Assert.Null(defaults.ReasoningBudget);
        Assert.Null(defaults.ReasoningNudge);

        var (code, stdout, _) = CliRunner.Run("serve", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--reasoning-budget", stdout);
        Assert.Contains("--reasoning-nudge", stdout);
    }

    [Fact]
    public void TheChatSetsTheBudgetWithSlashSet()
    {
        var (code, stdout, stderr) = CliRunner.RunWithInput(
            "/set reasoning_budget 2\n/set reasoning_nudge \\nEnough.\\n\n/show\nhello\n/set reasoning_budget -4\n/set reasoning_budget x\n/bye\n",
            "run", Model, "-n", "90", "--temp", "0", "--ignore-eos");
        Assert.Equal(0, code);
        Assert.Contains("Set reasoning_budget to 2.", stdout);
        Assert.Contains("reasoning_budget 2, reasoning_nudge \"\\nEnough.\\n\"", stdout);
        Assert.Contains("Enough.\n", stdout);
        Assert.Contains("[thinking ended at the reasoning budget of 2 tokens]", stdout);
        Assert.Contains("error: reasoning budget must be a number of tokens ≥ 0 (0: no thinking) or -1 (no limit), found -4", stderr);
        Assert.Contains("error: /set reasoning_budget needs a whole number, found 'x'", stderr);
    }
}
