using System.Text.Json.Nodes;
using Retort.Distillation.IO;
using Retort.Engine.IO;

namespace Retort.Distillation.Tasks;

/// <summary>
/// tasks.jsonl: one task a line with its reference answer; with solutions, the "reasoning" field makes
/// each line an SFT example ({"prompt","reasoning","answer"}). Code tasks add "entry_point" and "tests"
/// ([{"args": [...], "expected": ...}]), which evaluation and cleaning run the answer against.
/// </summary>
public static class TaskFile
{
    public static void Write(string path, IEnumerable<ReasoningTask> tasks, bool withSolutions) =>
        AtomicFile.WriteLines(path, tasks.Select(t => JsonlFile.ToLine(ToJson(t, withSolutions))));

    public static JsonObject ToJson(ReasoningTask task, bool withSolutions)
    {
        var json = new JsonObject
        {
            ["id"] = task.Id,
            ["lang"] = TaskNames.Name(task.Language),
            ["kind"] = TaskNames.Name(task.Kind),
            ["difficulty"] = task.Difficulty,
            ["prompt"] = task.Prompt,
        };
        if (withSolutions) json["reasoning"] = task.Reasoning;
        json["answer"] = task.Answer;
        if (task.Tests is { } tests)
        {
            json["entry_point"] = tests.EntryPoint;
            json["tests"] = new JsonArray(tests.Cases.Select(c => (JsonNode)new JsonObject
            {
                ["args"] = JsonNode.Parse(c.Arguments),
                ["expected"] = JsonNode.Parse(c.Expected),
            }).ToArray());
        }
        return json;
    }
}
