using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Retort.Engine;

namespace Retort.Distillation.IO;

/// <summary>Reads JSON Lines files (one object per line, blank lines ignored) with errors that name the line.</summary>
internal static class JsonlFile
{
    /// <summary>How records are written: one line each, non-ASCII text kept readable.</summary>
    public static JsonSerializerOptions LineOptions { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonSerializerOptions IndentedOptions { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };

    public static IEnumerable<JsonlLine> Read(string path)
    {
        if (!File.Exists(path)) throw new RetortException($"file not found: '{path}' (expected a JSONL file, one JSON object per line)");
        int number = 0;
        foreach (string text in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            yield return Parse(path, number, text);
        }
    }

    public static JsonlLine Parse(string path, int number, string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new RetortException($"{path} line {number}: not valid JSON ({ex.Message})");
        }
        if (node is not JsonObject obj)
            throw new RetortException($"{path} line {number}: expected a JSON object, found {node?.GetValueKind().ToString().ToLowerInvariant() ?? "null"}");
        return new JsonlLine(path, number, text, obj);
    }

    public static string ToLine(JsonObject record) => record.ToJsonString(LineOptions);
}
