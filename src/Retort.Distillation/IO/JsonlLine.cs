using System.Text.Json.Nodes;

namespace Retort.Distillation.IO;

/// <summary>One record of a JSONL file: its 1-based line number, its text as read, and the parsed object.</summary>
internal sealed record JsonlLine(string Path, int Number, string Text, JsonObject Json)
{
    /// <summary>"file line N", the place an error message points at.</summary>
    public string Where => $"{Path} line {Number}";

    /// <summary>The first of <paramref name="names"/> that holds a string (numbers are taken as their text).</summary>
    public string? GetString(params string[] names)
    {
        foreach (string name in names)
        {
            if (Json[name] is not JsonValue value) continue;
            if (value.TryGetValue(out string? s)) return s;
            if (value.TryGetValue(out double _)) return value.ToJsonString();
        }
        return null;
    }

    public long? GetInteger(params string[] names)
    {
        foreach (string name in names)
            if (Json[name] is JsonValue value && value.TryGetValue(out long n)) return n;
        return null;
    }

    public string RequireString(params string[] names) => GetString(names)
        ?? throw new Engine.RetortException($"{Where}: expected a string field {string.Join(" or ", names.Select(n => $"\"{n}\""))}, found none");
}
