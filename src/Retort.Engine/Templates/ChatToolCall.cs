namespace Retort.Engine.Templates;

/// <summary>
/// A tool call as templates see it: {"type": "function", "function": {"name": ..., "arguments": ...}}
/// (plus "id" when set). Arguments are a JSON string or a dictionary, as the template expects:
/// R1's template concatenates a string, Llama's and Qwen's apply tojson.
/// </summary>
public sealed record ChatToolCall(string Name, object? Arguments, string Type = "function", string? Id = null);
