using System.Globalization;
using Retort.Distillation.IO;
using Retort.Engine;

namespace Retort.Distillation.Evaluation;

/// <summary>
/// Reads evaluation sets as users have them: GSM8K ({"question","answer"} with "#### 42" closing the
/// answer), MATH-500 ({"problem","solution","answer"}, or only a solution with a \boxed{} answer), and
/// Retort's tasks.jsonl ({"prompt","answer"}). Ids come from "id" or "unique_id", else the line number;
/// the group that splits the accuracy from "kind" (Retort's task families) or "subject" (MATH).
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
        return new EvalItem(id, question, reference, line.GetString("kind", "subject"));
    }
}
