using System.Text.Json;
using Retort.Engine.Templates;

namespace Retort.Engine.Tests.Templates;

/// <summary>
/// Reads Data/reference.json (written by make_reference.py with Hugging Face's jinja2 setup) and
/// turns its JSON messages and variables into the values ChatTemplate.Render takes.
/// </summary>
internal static class TemplateTestData
{
    public static string DataPath(string name) => Path.Combine(AppContext.BaseDirectory, "Templates", "Data", name);

    private static readonly Lazy<Dictionary<string, JsonElement>> Cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DataPath("reference.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.Clone());
    });

    public static IEnumerable<string> CaseNames => Cases.Value.Keys;

    public static JsonElement Case(string name) => Cases.Value[name];

    public static List<ChatMessage> Messages(JsonElement array) =>
        array.EnumerateArray().Select(ToMessage).ToList();

    private static ChatMessage ToMessage(JsonElement m)
    {
        string? content = m.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        var msg = new ChatMessage(m.GetProperty("role").GetString()!, content);
        if (m.TryGetProperty("reasoning_content", out var r)) msg = msg with { ReasoningContent = r.GetString() };
        if (m.TryGetProperty("tool_calls", out var calls))
        {
            msg = msg with
            {
                ToolCalls = calls.EnumerateArray().Select(tc =>
                {
                    var f = tc.GetProperty("function");
                    return new ChatToolCall(
                        f.GetProperty("name").GetString()!,
                        ToClr(f.GetProperty("arguments")),
                        tc.GetProperty("type").GetString()!,
                        tc.TryGetProperty("id", out var id) ? id.GetString() : null);
                }).ToList(),
            };
        }
        return msg;
    }

    public static object? ToClr(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetRawText().IndexOfAny(['.', 'e', 'E']) >= 0 ? (object)e.GetDouble() : (object)e.GetInt64(),
        JsonValueKind.Array => e.EnumerateArray().Select(ToClr).ToList(),
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => ToClr(p.Value)),
        _ => throw new InvalidDataException($"unexpected JSON {e.ValueKind}"),
    };

    public static Dictionary<string, object?> Extra(JsonElement obj) =>
        obj.EnumerateObject().ToDictionary(p => p.Name, p => ToClr(p.Value));

    public static string? OptString(JsonElement c, string name) =>
        c.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
