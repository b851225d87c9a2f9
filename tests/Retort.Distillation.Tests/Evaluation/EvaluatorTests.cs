using System.Text.Json.Nodes;
using Retort.Distillation.Evaluation;
using Retort.Distillation.Models;
using Retort.Distillation.Tests.Support;
using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Tests.Support;

namespace Retort.Distillation.Tests.Evaluation;

public sealed class EvaluatorTests
{
    [Fact]
    public void ReadsGsm8kMath500AndTaskFilesAsTheyAre()
    {
        using var temp = new TempFolder();
        File.WriteAllLines(temp.File("gsm8k.jsonl"),
        [
            """{"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?", "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72"}""",
            """{"question": "Q2", "answer": "so\n#### 1,200"}""",
        ]);
        File.WriteAllLines(temp.File("math.jsonl"),
        [
            """{"problem": "Compute $\\frac{28}{6}$.", "solution": "It is $\\boxed{\\frac{14}{3}}$.", "answer": "\\frac{14}{3}", "subject": "Algebra", "level": 1, "unique_id": "test/algebra/1.json"}""",
            """{"problem": "P2", "solution": "Thus the answer is $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$."}""",
        ]);
        File.WriteAllLines(temp.File("tasks.jsonl"), ["""{"id": "t-1", "prompt": "Solve for x: 2x = 4", "answer": "2"}"""]);

        var gsm = EvalDataset.Load(temp.File("gsm8k.jsonl"));
        Assert.Equal(["72", "1,200"], gsm.Select(i => i.Reference));
        Assert.Equal(["line-1", "line-2"], gsm.Select(i => i.Id));
        Assert.StartsWith("Natalia sold clips", gsm[0].Question);

        var math = EvalDataset.Load(temp.File("math.jsonl"));
        Assert.Equal(["\\frac{14}{3}", "\\left( 3, \\frac{\\pi}{2} \\right)"], math.Select(i => i.Reference));
        Assert.Equal("test/algebra/1.json", math[0].Id);
        Assert.Equal(["Algebra", null], math.Select(i => i.Group));

        var tasks = EvalDataset.Load(temp.File("tasks.jsonl"));
        Assert.Equal(new EvalItem("t-1", "Solve for x: 2x = 4", "2"), Assert.Single(tasks));

        Assert.Single(EvalDataset.Load(temp.File("gsm8k.jsonl"), limit: 1));
    }

    [Fact]
    public void CodeProblemsCarryTheirTestsAndBadTestsAreAOneLineError()
    {
        using var temp = new TempFolder();
        File.WriteAllLines(temp.File("code.jsonl"),
        [
            """{"id": "p1", "kind": "python-function", "prompt": "Write a Python function that reverses a string.", "answer": "```python\ndef reverse_string(s):\n    return s[::-1]\n```", "entry_point": "reverse_string", "tests": [{"args": ["abc"], "expected": "cba"}, {"args": [[1, 2]], "expected": null}]}""",
        ]);
        var item = Assert.Single(EvalDataset.Load(temp.File("code.jsonl")));
        Assert.Equal(new CodeTests("reverse_string", [new("[\"abc\"]", "\"cba\""), new("[[1,2]]", "null")]), item.Tests);
        Assert.Equal("python-function", item.Group);

        (string Line, string Error)[] bad =
        [
            ("""{"prompt": "p", "answer": "a", "tests": [{"args": []}], "entry_point": "f"}""", "tests[0] must be an object with an \"args\" array and an \"expected\" value, found an object"),
            ("""{"prompt": "p", "answer": "a", "tests": [{"args": 1, "expected": 2}], "entry_point": "f"}""", "tests[0] must be an object with an \"args\" array"),
            ("""{"prompt": "p", "answer": "a", "tests": [], "entry_point": "f"}""", "\"tests\" must be an array of 1 to 1000 cases, found an array of 0"),
            ("""{"prompt": "p", "answer": "a", "tests": "x", "entry_point": "f"}""", "\"tests\" must be an array of 1 to 1000 cases, found \"x\""),
            ("""{"prompt": "p", "answer": "a", "tests": [{"args": [], "expected": 1}]}""", "\"tests\" needs \"entry_point\""),
        ];
        foreach (var (line, error) in bad)
        {
            File.WriteAllLines(temp.File("bad.jsonl"), [line]);
            var ex = Assert.Throws<RetortException>(() => EvalDataset.Load(temp.File("bad.jsonl")));
            Assert.Contains("bad.jsonl line 1: ", ex.Message);
            Assert.Contains(error, ex.Message);
            Assert.DoesNotContain('\n', ex.Message);
        }
    }

    [Fact]
    public async Task CodeIsScoredByItsTestsAndWithoutPythonItIsUncheckedAndReported()
    {
        PythonAvailable.Require();
        var tests = new CodeTests("is_even", [new("[4]", "true"), new("[7]", "false")]);
        var items = new[]
        {
            new EvalItem("p1", "even?", "```python\ndef is_even(n):\n    return n % 2 == 0\n```", "python-function", tests),
            new EvalItem("p2", "even again?", "```python\ndef is_even(n):\n    return n % 2 == 0\n```", "python-function", tests),
            new EvalItem("v1", "trap?", "不一定", "syllogism-trap"),
        };
        var answers = new Dictionary<string, string>
        {
            ["even?"] = "```python\ndef is_even(n):\n    return not n & 1\n```",
            ["even again?"] = "```python\ndef is_even(n):\n    return n > 0\n```",
            ["trap?"] = "小白不一定会飞。",
        };
        var score = await Evaluator.EvaluateAsync(new FakeModel("m", answers, wrongOnOddSamples: false), items, new EvalOptions());
        Assert.Equal([true, false, true], score.Items.Select(i => i.Samples[0].Correct));
        Assert.Equal(0, score.UncheckedSamples);
        Assert.Equal([("python-function", 2, 0.5), ("syllogism-trap", 1, 1.0)], score.AccuracyByGroup);

        var blind = await Evaluator.EvaluateAsync(new FakeModel("m", answers, wrongOnOddSamples: false), items,
            new EvalOptions { CodeRunner = new PythonTestRunner { Python = "/nonexistent/python3" } });
        Assert.Equal([false, false, true], blind.Items.Select(i => i.Samples[0].Correct));
        Assert.Equal(2, blind.UncheckedSamples);
        Assert.Contains("**m: 2 code answer(s) unchecked** (no Python interpreter to run their tests): counted as wrong.", EvalReport.ToMarkdown([blind], "t.jsonl", new EvalOptions()));
        var json = EvalReport.ToJson([blind], "t.jsonl", new EvalOptions());
        Assert.Equal(2, json["models"]![0]!["unchecked_samples"]!.GetValue<int>());
        Assert.True(json["models"]![0]!["results"]![0]!["samples"]![0]!["unchecked"]!.GetValue<bool>());
        Assert.DoesNotContain("unchecked**", EvalReport.ToMarkdown([score], "t.jsonl", new EvalOptions()));
    }

    [Fact]
    public void AFileWithoutReferencesIsAClearError()
    {
        using var temp = new TempFolder();
        File.WriteAllLines(temp.File("bad.jsonl"), ["""{"question": "Q"}"""]);
        var ex = Assert.Throws<RetortException>(() => EvalDataset.Load(temp.File("bad.jsonl")));
        Assert.Contains("line 1", ex.Message);
        Assert.Contains("no reference answer", ex.Message);
    }

    [Fact]
    public async Task AModelThatAnswersCorrectlyScoresOneAndHalfRightScoresAHalf()
    {
        var items = new[]
        {
            new EvalItem("a", "What is 6 × 7?", "42"),
            new EvalItem("b", "Natalia sold ...", "1,200"),
            new EvalItem("c", "Which follows?", "C"),
            new EvalItem("d", "Probability?", "\\frac{7}{12}"),
        };
        var answers = new Dictionary<string, string>
        {
            ["What is 6 × 7?"] = "So the answer is \\boxed{42}.",
            ["Natalia sold ..."] = "She sold 1200 clips.\n#### 1200",
            ["Which follows?"] = "A and B fail, so the answer is (C).",
            ["Probability?"] = "P = 7/12",
        };
        var right = new FakeModel("right", answers, wrongOnOddSamples: false);
        var score = await Evaluator.EvaluateAsync(right, items, new EvalOptions { Samples = 3, Concurrency = 2 });
        Assert.Equal(1.0, score.Accuracy);
        Assert.Equal(12, score.SampleCount);
        Assert.Equal(10.0, score.MeanOutputTokens);
        Assert.Equal(120 / 1.2, score.TokensPerSecond, 6); // 12 samples × 10 tokens over 12 × 0.1 s

        var half = new FakeModel("half", answers, wrongOnOddSamples: true);
        var halfScore = await Evaluator.EvaluateAsync(half, items, new EvalOptions { Samples = 2, Sampling = new ChatSampling { Seed = 10 } });
        Assert.Equal(0.5, halfScore.Accuracy);
        Assert.All(halfScore.Items, i => Assert.Equal([true, false], i.Samples.Select(s => s.Correct)));

        var json = EvalReport.ToJson([score, halfScore], "set.jsonl", new EvalOptions { Samples = 3 });
        var models = json["models"]!.AsArray();
        Assert.Equal(["right", "half"], models.Select(m => m!["model"]!.GetValue<string>()));
        Assert.Equal(1.0, models[0]!["accuracy"]!.GetValue<double>());
        Assert.Equal("1200", models[0]!["results"]![1]!["samples"]![0]!["extracted"]!.GetValue<string>());
        string md = EvalReport.ToMarkdown([score, halfScore], "set.jsonl", new EvalOptions());
        Assert.Contains("| right | 4 | 100.0% | 10.0 | 100.0 |", md);
        Assert.Contains("| half | 4 | 50.0% | 10.0 | 100.0 |", md);
    }

    [Fact]
    public async Task AccuracyIsSplitByTheItemsGroups()
    {
        // Two families: the model gets both chickens-rabbits problems right and one of the two syllogisms.
        var items = new[]
        {
            new EvalItem("c1", "cage 1", "3", "chickens-rabbits"),
            new EvalItem("s1", "syllogism 1", "B", "syllogism"),
            new EvalItem("c2", "cage 2", "5", "chickens-rabbits"),
            new EvalItem("s2", "syllogism 2", "C", "syllogism"),
        };
        var answers = new Dictionary<string, string> { ["cage 1"] = "\\boxed{3}", ["cage 2"] = "\\boxed{5}", ["syllogism 1"] = "B", ["syllogism 2"] = "A" };
        var score = await Evaluator.EvaluateAsync(new FakeModel("m", answers, wrongOnOddSamples: false), items, new EvalOptions());
        Assert.Equal([("chickens-rabbits", 2, 1.0), ("syllogism", 2, 0.5)], score.AccuracyByGroup);
        Assert.Equal(0.75, score.Accuracy);

        string md = EvalReport.ToMarkdown([score], "tasks.jsonl", new EvalOptions());
        Assert.Contains("| model | chickens-rabbits (2) | syllogism (2) |", md);
        Assert.Contains("| m | 100.0% | 50.0% |", md);
        var json = EvalReport.ToJson([score], "tasks.jsonl", new EvalOptions());
        Assert.Equal(0.5, json["models"]![0]!["accuracy_by_group"]!["syllogism"]!.GetValue<double>());
        Assert.Equal("syllogism", json["models"]![0]!["results"]![1]!["group"]!.GetValue<string>());

        // Without groups there is no split and no second table.
        var plain = await Evaluator.EvaluateAsync(new FakeModel("m", answers, wrongOnOddSamples: false), items.Select(i => i with { Group = null }).ToArray(), new EvalOptions());
        Assert.Empty(plain.AccuracyByGroup);
        Assert.DoesNotContain("per group", EvalReport.ToMarkdown([plain], "tasks.jsonl", new EvalOptions()));
    }

    [Fact]
    public async Task TheFixtureModelIsEvaluatedEndToEnd()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"));
        var items = new[] { new EvalItem("1", "What is 2 + 2?", "4"), new EvalItem("2", "甲先掷，求甲获胜的概率。", "6/11"), new EvalItem("3", "Pick one.", "B") };
        var score = await Evaluator.EvaluateAsync(new LocalChatModel(model, 256), items,
            new EvalOptions { Samples = 2, Sampling = new ChatSampling { Temperature = 0.8f, MaxTokens = 5, Seed = 1 } });
        Assert.Equal("qwen2-tiny-q8_0", score.Model);
        Assert.Equal(3, score.Items.Count);
        Assert.All(score.Items, i => Assert.Equal(2, i.Samples.Count));
        Assert.InRange(score.OutputTokens, 1, 30);
        Assert.InRange(score.Accuracy, 0, 1);
        Assert.True(score.TokensPerSecond > 0);
        Assert.All(score.Items.SelectMany(i => i.Samples), s => Assert.InRange(s.OutputTokens!.Value, 0, 5));
    }

    /// <summary>Answers from a table; with <c>wrongOnOddSamples</c> the odd-seeded samples answer "0". Every reply: 10 tokens in 0.1 s.</summary>
    private sealed class FakeModel(string name, Dictionary<string, string> answers, bool wrongOnOddSamples) : IChatModel
    {
        public string Name => name;

        public Task<ChatReply> CompleteAsync(string prompt, ChatSampling sampling, CancellationToken cancellationToken)
        {
            bool wrong = wrongOnOddSamples && sampling.Seed % 2 == 1;
            return Task.FromResult(new ChatReply
            {
                Reasoning = "thinking",
                Answer = wrong ? "\\boxed{0}" : answers[prompt],
                FinishReason = "stop",
                CompletionTokens = 10,
                Elapsed = TimeSpan.FromSeconds(0.1),
            });
        }
    }
}
