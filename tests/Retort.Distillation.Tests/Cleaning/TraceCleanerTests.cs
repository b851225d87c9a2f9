using System.Text.Json.Nodes;
using Retort.Distillation.Cleaning;
using Retort.Distillation.Evaluation;
using Retort.Distillation.Tests.Support;
using Retort.Engine;

namespace Retort.Distillation.Tests.Cleaning;

public sealed class TraceCleanerTests
{
    private const string Long =
        "First count the animals: every chicken and every rabbit has one head, so the heads give the number of animals. " +
        "Suppose all of them were chickens; then the legs would be twice the heads. The real count of legs is larger, " +
        "and each rabbit adds two legs over a chicken, so the surplus divided by two is the number of rabbits. " +
        "Subtracting the rabbits from the animals leaves the chickens. Checking: two legs per chicken plus four per rabbit " +
        "gives back the total. Everything is consistent, so the count of rabbits found above is the answer to the question.";

    private static readonly List<EvalItem> References =
    [
        new("t1", "How many rabbits?", "42"),
        new("t9", "Other prompt", "42"),
        new("t14", "Dice?", "\\frac{7}{12}"),
        new("t15", "Syllogism?", "C"),
    ];

    private static string Line(JsonObject o) => o.ToJsonString();

    private static JsonObject Trace(string id, string prompt, string reasoning, string answer, string finish = "stop") => new()
    {
        ["id"] = id, ["sample"] = 0, ["prompt"] = prompt, ["reasoning"] = reasoning, ["answer"] = answer, ["finish_reason"] = finish,
    };

    private static (string[] Lines, Dictionary<DropReason, int> Expected, int[] KeptIndices) Input()
    {
        string[] lines =
        [
            Line(Trace("t1", "How many rabbits?", Long, "There are \\boxed{42} rabbits.")),                       // 0 kept
            """{"id":"t2","prompt":"How many rabbits?"}""",                                                         // 1 missing
            Line(Trace("t1", "How many rabbits?", Long, "\\boxed{42}", finish: "length")),                         // 2 not closed
            """{"id":"t1","prompt":"How many rabbits?","completion":"<think>\nstill thinking"}""",                 // 3 not closed
            Line(Trace("t1", "How many rabbits?", Long, "  ")),                                                    // 4 no answer
            Line(Trace("t1", "How many rabbits?", Long, "\\boxed{42}<｜end▁of▁sentence｜>")),                        // 5 special
            Line(Trace("t1", "How many rabbits?", Long, "\\boxed{42}<|im_end|>")),                                 // 6 special
            Line(Trace("t404", "Unknown prompt", Long, "\\boxed{42}")),                                           // 7 no reference
            Line(Trace("t1", "How many rabbits?", Long, "\\boxed{41}")),                                          // 8 wrong
            Line(Trace("t9", "Other prompt", "42 it is", "\\boxed{42}")),                                         // 9 too short
            Line(Trace("t9", "Other prompt", string.Concat(Enumerable.Repeat(Long, 12)), "\\boxed{42}")),         // 10 too long
            Line(Trace("t1", "How many rabbits?", Long, "There are \\boxed{42} rabbits.")),                       // 11 exact duplicate
            Line(Trace("t1", "How many rabbits?", Long.Replace("consistent", "coherent"), "There are \\boxed{42} rabbits.")), // 12 near duplicate
            Line(new JsonObject { ["id"] = "t14", ["prompt"] = "Dice?", ["completion"] = "<think>\nA wins with p/(1-r) where p is one half and the miss chance one sixth of the round; sum the geometric series term by term and reduce the fraction carefully before answering.\n</think>\n\nThe probability is 7/12." }), // 13 kept
            Line(Trace("t15", "Syllogism?", "All wumps are zorbs and all zorbs are daxes, so all wumps are daxes; options A, B and D do not follow from the two premises, which allow situations where they are false.", "So the answer is (C).")), // 14 kept
        ];
        var expected = new Dictionary<DropReason, int>
        {
            [DropReason.MissingFields] = 1, [DropReason.ThinkNotClosed] = 2, [DropReason.NoAnswer] = 1, [DropReason.SpecialTokens] = 2,
            [DropReason.NoReference] = 1, [DropReason.WrongAnswer] = 1, [DropReason.TooShort] = 1, [DropReason.TooLong] = 1,
            [DropReason.ExactDuplicate] = 1, [DropReason.NearDuplicate] = 1,
        };
        return (lines, expected, [0, 13, 14]);
    }

    // Four characters a token: enough to exercise the bounds without a tokenizer.
    private static CleaningOptions Options(double threshold = 0.9) => new()
    {
        MinTokens = 40, MaxTokens = 1000, NearDuplicateThreshold = threshold, CountTokens = s => s.Length / 4, References = References,
    };

    [Fact]
    public void EachCheckDropsWhatItShouldAndKeptLinesAreWrittenUnchanged()
    {
        using var temp = new TempFolder();
        var (lines, expected, kept) = Input();
        File.WriteAllLines(temp.File("traces.jsonl"), lines);
        var report = TraceCleaner.Clean(temp.File("traces.jsonl"), temp.File("clean.jsonl"), Options());

        Assert.Equal(lines.Length, report.Input);
        Assert.Equal(kept.Length, report.Kept);
        Assert.Equal(expected.OrderBy(e => e.Key), report.Dropped.OrderBy(e => e.Key));
        Assert.Equal(kept.Select(i => lines[i]), File.ReadAllLines(temp.File("clean.jsonl")));
        Assert.Equal(["clean.jsonl", "traces.jsonl"], Directory.GetFiles(temp.Root).Select(Path.GetFileName).Order());

        var json = report.ToJson();
        Assert.Equal(1, json["dropped"]!["too_long"]!.GetValue<int>());
        Assert.Equal(2, json["dropped"]!["think_not_closed"]!.GetValue<int>());
        Assert.Equal(0.9, json["near_duplicate_threshold"]!.GetValue<double>());
    }

    [Fact]
    public void RejectionSamplingKeepsOnlyRightVerdictsCountsAndCodeThatPassesItsTests()
    {
        PythonAvailable.Require();
        using var temp = new TempFolder();
        var code = new CodeTests("reverse_string", [new("""["abc"]""", "\"cba\""), new("""[""]""", "\"\"")]);
        List<EvalItem> references =
        [
            new("v", "如果所有猫都会飞，小白不是猫，那么小白一定会飞吗？", "不一定"),
            new("c", "鸡兔同笼，共有 35 个头，94 条腿，请问鸡和兔各有多少只？", "鸡23只，兔12只"),
            new("p", "Write a Python function that reverses a string.", "```python\ndef reverse_string(s):\n    return s[::-1]\n```", "python-function", code),
        ];
        string[] lines =
        [
            Line(Trace("v", references[0].Question, Long, "不一定")),                                        // 0 kept
            Line(Trace("v", references[0].Question, Long + " ", "会")),                                      // 1 wrong
            Line(Trace("c", references[1].Question, Long, "兔12只，鸡23只")),                                 // 2 kept
            Line(Trace("c", references[1].Question, Long + " ", "鸡12只，兔23只")),                           // 3 wrong
            Line(Trace("p", references[2].Question, Long, "```python\ndef reverse_string(s):\n    return s[::-1]\n```")), // 4 kept
            Line(Trace("p", references[2].Question, Long + " ", "```python\ndef reverse_string(s):\n    return s\n```")),  // 5 fails its tests
        ];
        File.WriteAllLines(temp.File("traces.jsonl"), lines);
        var options = Options(threshold: 1.01) with { References = references };
        var report = TraceCleaner.Clean(temp.File("traces.jsonl"), temp.File("clean.jsonl"), options);
        Assert.Equal(3, report.Dropped[DropReason.WrongAnswer]);
        Assert.Equal([lines[0], lines[2], lines[4]], File.ReadAllLines(temp.File("clean.jsonl")));

        // Without Python, code traces are dropped as unchecked rather than kept unverified.
        report = TraceCleaner.Clean(temp.File("traces.jsonl"), temp.File("clean2.jsonl"), options with { CodeRunner = new PythonTestRunner { Python = "/nonexistent/python3" } });
        Assert.Equal(2, report.Dropped[DropReason.CodeUnchecked]);
        Assert.Equal([lines[0], lines[2]], File.ReadAllLines(temp.File("clean2.jsonl")));
        Assert.Equal(2, report.ToJson()["dropped"]!["code_unchecked"]!.GetValue<int>());
    }

    [Fact]
    public void CleaningIsDeterministicAndAThresholdAboveOneKeepsNearDuplicates()
    {
        using var temp = new TempFolder();
        var (lines, _, _) = Input();
        File.WriteAllLines(temp.File("traces.jsonl"), lines);
        TraceCleaner.Clean(temp.File("traces.jsonl"), temp.File("a.jsonl"), Options());
        TraceCleaner.Clean(temp.File("traces.jsonl"), temp.File("b.jsonl"), Options());
        Assert.Equal(File.ReadAllBytes(temp.File("a.jsonl")), File.ReadAllBytes(temp.File("b.jsonl")));

        var report = TraceCleaner.Clean(temp.File("traces.jsonl"), temp.File("c.jsonl"), Options(threshold: 1.01));
        Assert.Equal(0, report.Dropped.GetValueOrDefault(DropReason.NearDuplicate));
        Assert.Contains(lines[12], File.ReadAllLines(temp.File("c.jsonl")));
    }

    [Fact]
    public void WithoutATokenizerTheRecordedUsageIsTheLength()
    {
        using var temp = new TempFolder();
        var a = Trace("a", "P", "r", "1");
        a["usage"] = new JsonObject { ["completion_tokens"] = 600 };
        var b = Trace("b", "Q", "r", "1");
        b["usage"] = new JsonObject { ["completion_tokens"] = 100 };
        File.WriteAllLines(temp.File("t.jsonl"), [a.ToJsonString(), b.ToJsonString()]);
        var report = TraceCleaner.Clean(temp.File("t.jsonl"), temp.File("c.jsonl"), new CleaningOptions());
        Assert.Equal(1, report.Kept);
        Assert.Equal(1, report.Dropped[DropReason.TooShort]);

        File.WriteAllLines(temp.File("t2.jsonl"), [Trace("a", "P", "r", "1").ToJsonString()]);
        var ex = Assert.Throws<RetortException>(() => TraceCleaner.Clean(temp.File("t2.jsonl"), temp.File("c2.jsonl"), new CleaningOptions()));
        Assert.Contains("line 1", ex.Message);
        Assert.Contains("--tokenizer", ex.Message);
        Assert.False(File.Exists(temp.File("c2.jsonl")));
    }

    [Fact]
    public void MinHashEstimatesSimilarity()
    {
        var a = MinHash.Signature(Long);
        Assert.Equal(a, MinHash.Signature(Long));
        Assert.Equal(1.0, MinHash.Similarity(a, MinHash.Signature(Long.ToUpperInvariant().Replace(" ", "   "))));
        Assert.True(MinHash.Similarity(a, MinHash.Signature(Long.Replace("consistent", "coherent"))) > 0.9);
        Assert.True(MinHash.Similarity(a, MinHash.Signature("甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。")) < 0.1);
    }
}
