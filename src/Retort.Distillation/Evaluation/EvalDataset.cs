using System.Globalization;
using System.Text.Json.Nodes;
using Retort.Distillation.IO;
using Retort.Engine;

namespace Retort.Distillation.Evaluation;

/// <summary>
/// Reads evaluation sets as users have them: GSM8K ({"question","answer"} with "#### 42" closing the
/// answer), MATH-500 ({"problem","solution","answer"}, or only a solution with a \boxed{} answer), and
/// Retort's tasks.jsonl ({"prompt","answer"}). Ids come from "id" or "unique_id", else the line number;
/// the group that splits the accuracy from "kind" (Retort's task families) or "subject" (MATH); code
/// problems' hidden tests from "tests" and "entry_point".
/// </summary>
public static class EvalDataset
{
    public static IReadOnlyList<EvalItem> Load(string path, int? limit = null)
    {
        var items = new List<EvalItem>();
        foreach (var line in JsonlFile.Read(path))
        {
            if (limit is int n && items.Count >= n) break;
            items.Add(FromLine(line));
        }
        if (items.Count == 0) throw new RetortException($"{path}: no problems in the file (expected JSONL with \"question\", \"problem\" or \"prompt\")");
        return items;
    }

    internal static EvalItem FromLine(JsonlLine line)
    {
        string question = line.RequireString("question", "problem", "prompt");
        string id = line.GetString("id", "unique_id") ?? $"line-{line.Number.ToString(CultureInfo.InvariantCulture)}";
        string? answer = line.GetString("answer");
        string? reference = answer switch
        {
            null => line.GetString("solution") is { } solution ? AnswerExtractor.LastBoxed(solution) : null,
            _ when answer.Contains("####", StringComparison.Ordinal) => answer[(answer.LastIndexOf("####", StringComparison.Ordinal) + 4)..].Trim(),
            _ => answer.Trim(),
        };
        if (string.IsNullOrEmpty(reference))
            throw new RetortException($"{line.Where}: no reference answer (expected \"answer\", or a \"solution\" with \\boxed{{}})");
        return new EvalItem(id, question, reference, line.GetString("kind", "subject"), Tests(line));
    }

    /// <summary>Most cases a code problem may carry, and most characters of one case's JSON: a file cannot make evaluation run without bound.</summary>
    private const int MaxCases = 1000, MaxCaseChars = 100_000;

    /// <summary>"tests": [{"args": [...], "expected": ...}, ...] with "entry_point" (the function to call); null when the line has no tests.</summary>
    private static CodeTests? Tests(JsonlLine line)
    {
        var node = line.Json["tests"];
        if (node == null) return null;
        if (node is not JsonArray cases || cases.Count == 0 || cases.Count > MaxCases)
            throw new RetortException($"{line.Where}: \"tests\" must be an array of 1 to {MaxCases} cases, found {Describe(node)}");
        string entry = line.GetString("entry_point")
            ?? throw new RetortException($"{line.Where}: \"tests\" needs \"entry_point\", the name of the function to call");
        var list = new List<CodeTestCase>(cases.Count);
        for (int i = 0; i < cases.Count; i++)
        {
            if (cases[i] is not JsonObject c || c["args"] is not JsonArray args || !c.ContainsKey("expected"))
                throw new RetortException($"{line.Where}: tests[{i}] must be an object with an \"args\" array and an \"expected\" value, found {Describe(cases[i])}");
            string arguments = args.ToJsonString(), expected = c["expected"]?.ToJsonString() ?? "null";
            if (arguments.Length + expected.Length > MaxCaseChars)
                throw new RetortException($"{line.Where}: tests[{i}] is {arguments.Length + expected.Length} characters of JSON, more than {MaxCaseChars}");
            list.Add(new CodeTestCase(arguments, expected));
        }
        return new CodeTests(entry, list);
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray a => $"an array of {a.Count}",
        JsonObject => "an object",
        _ => node.ToJsonString().Length > 40 ? node.ToJsonString()[..40] + "…" : node.ToJsonString(),
    };
}
