using System.Text.Json;
using Retort.Engine;
using Retort.Engine.Templates;
using Retort.Engine.Tokenization;

namespace Retort.Training.Data;

/// <summary>
/// Reads training data from JSONL, one example per line, in any of these shapes:
/// {"prompt", "completion"}; {"prompt", "reasoning", "answer"} (the completion becomes
/// "&lt;think&gt;\nreasoning\n&lt;/think&gt;\n\nanswer", the R1 trace format); {"messages": [...]}
/// whose last message is the assistant's (its "reasoning_content", if any, joins the same way);
/// {"text"} (plain text, every token trained). Prompts are rendered with the student's chat
/// template (generation prompt included) and masked out of the loss; completions end with EOS.
/// </summary>
public sealed class TraceDataset
{
    private readonly Tokenizer _tokenizer;
    private readonly ChatTemplate? _template;
    private readonly string? _bos, _eos;

    public TraceDataset(Tokenizer tokenizer, ChatTemplate? template)
    {
        _tokenizer = tokenizer;
        _template = template;
        _bos = tokenizer.BosTokenId is int b ? tokenizer.TokenText(b) : null;
        _eos = tokenizer.EosTokenId is int e ? tokenizer.TokenText(e) : null;
    }

    /// <summary>Problems met while reading with <see cref="MalformedLinePolicy.Skip"/>, one line each (file:line: reason).</summary>
    public List<string> Skipped { get; } = [];

    public List<TrainingExample> ReadFile(string path, MalformedLinePolicy policy)
    {
        if (!File.Exists(path)) throw new RetortException($"data file not found: '{path}'");
        var examples = new List<TrainingExample>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                examples.Add(Parse(line));
            }
            catch (Exception e) when (e is JsonException or RetortException or InvalidOperationException)
            {
                string reason = e is JsonException ? $"not valid JSON ({e.Message.Split('\n')[0]})" : e.Message;
                string message = $"{path}:{lineNumber}: {reason}";
                if (policy == MalformedLinePolicy.Stop)
                    throw new RetortException($"{message} (use --skip-bad-lines to skip such lines)");
                Skipped.Add(message);
            }
        }
        if (examples.Count == 0) throw new RetortException($"{path}: no usable examples (read {lineNumber} lines)");
        return examples;
    }

    /// <summary>One JSONL line to a tokenized example.</summary>
    public TrainingExample Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new RetortException($"expected a JSON object, found a JSON {root.ValueKind}");
        if (root.TryGetProperty("text", out var text) && !root.TryGetProperty("prompt", out _) && !root.TryGetProperty("messages", out _))
            return Plain(RequireString(text, "text"));
        if (root.TryGetProperty("messages", out var messages)) return FromMessages(messages);
        if (!root.TryGetProperty("prompt", out var prompt))
            throw new RetortException("expected \"prompt\" with \"completion\" (or \"reasoning\"/\"answer\"), \"messages\", or \"text\"");
        string completion;
        if (root.TryGetProperty("completion", out var c)) completion = RequireString(c, "completion");
        else if (root.TryGetProperty("answer", out var answer))
            completion = root.TryGetProperty("reasoning", out var reasoning)
                ? Trace(RequireString(reasoning, "reasoning"), RequireString(answer, "answer"))
                : RequireString(answer, "answer");
        else throw new RetortException("a \"prompt\" needs a \"completion\" or an \"answer\"");
        return Conversation([new ChatMessage("user", RequireString(prompt, "prompt"))], completion);
    }

    private static string Trace(string reasoning, string answer) => $"<think>\n{reasoning}\n</think>\n\n{answer}";

    private TrainingExample FromMessages(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw new RetortException("\"messages\" must be a non-empty array");
        var list = new List<ChatMessage>();
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                throw new RetortException("each message needs a string \"role\"");
            string? content = m.TryGetProperty("content", out var ct) && ct.ValueKind == JsonValueKind.String ? ct.GetString() : null;
            string? reasoning = m.TryGetProperty("reasoning_content", out var rc) && rc.ValueKind == JsonValueKind.String ? rc.GetString() : null;
            list.Add(new ChatMessage(role.GetString()!, content) { ReasoningContent = reasoning });
        }
        var last = list[^1];
        if (last.Role != "assistant")
            throw new RetortException($"the last message must be the assistant's (the completion to learn), found role '{last.Role}'");
        string completion = last.ReasoningContent is { } r ? Trace(r, last.Content ?? "") : last.Content ?? "";
        return Conversation(list.Take(list.Count - 1).ToList(), completion);
    }

    private TrainingExample Conversation(IReadOnlyList<ChatMessage> prompt, string completion)
    {
        string promptText = _template != null
            ? _template.Render(prompt, addGenerationPrompt: true, _bos, _eos)
            : string.Concat(prompt.Select(m => m.Content));
        // R1's template opens the reasoning itself ("<｜Assistant｜><think>\n"); a trace that opens it again would teach a double tag.
        const string open = "<think>\n";
        if (promptText.EndsWith(open, StringComparison.Ordinal) && completion.StartsWith(open, StringComparison.Ordinal))
            completion = completion[open.Length..];
        int[] promptIds = _tokenizer.Encode(promptText);
        int[] completionIds = _tokenizer.Encode(completion);
        int eos = _tokenizer.EosTokenId ?? throw new RetortException("the student's tokenizer has no EOS token to end completions with");
        int[] tokens = [.. promptIds, .. completionIds, eos];
        var trained = new bool[tokens.Length];
        for (int i = promptIds.Length; i < tokens.Length; i++) trained[i] = true;
        return new TrainingExample(tokens, trained);
    }

    private TrainingExample Plain(string text)
    {
        int[] ids = _tokenizer.Encode(text, addSpecialTokens: true);
        int[] tokens = _tokenizer.EosTokenId is int eos ? [.. ids, eos] : ids;
        var trained = new bool[tokens.Length];
        Array.Fill(trained, true);
        return new TrainingExample(tokens, trained);
    }

    private static string RequireString(JsonElement e, string name) => e.ValueKind == JsonValueKind.String
        ? e.GetString()!
        : throw new RetortException($"\"{name}\" must be a string, found a JSON {e.ValueKind}");
}
