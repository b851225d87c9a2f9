namespace Retort.Engine.Templates;

/// <summary>
/// One chat turn as templates see it: a Python dict with "role" and "content" (None when null),
/// plus "reasoning_content" and "tool_calls" only when set, so `'tool_calls' in message` behaves
/// as with Hugging Face's message dicts.
/// </summary>
public sealed record ChatMessage(string Role, string? Content)
{
    /// <summary>The assistant's reasoning, for templates that render it separately.</summary>
    public string? ReasoningContent { get; init; }

    /// <summary>Tool calls made by an assistant turn.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>For role "tool": the name of the tool that produced the content.</summary>
    public string? Name { get; init; }

    /// <summary>For role "tool": the id of the call being answered.</summary>
    public string? ToolCallId { get; init; }
}
