using System.Text.Json.Nodes;
using Retort.Distillation.Models;

namespace Retort.Distillation.Traces;

/// <summary>How one teacher sample is written to traces.jsonl (one JSON object per line).</summary>
internal static class TraceRecord
{
    public static JsonObject ToJson(PromptItem item, int sample, ChatReply reply, string teacher, ChatSampling sampling)
    {
        var record = new JsonObject
        {
            ["id"] = item.Id,
            ["sample"] = sample,
            ["prompt"] = item.Prompt,
            ["reasoning"] = reply.Reasoning,
            ["answer"] = reply.Answer,
        };
        if (item.Reference != null) record["reference"] = item.Reference;
        record["teacher"] = teacher;
        record["finish_reason"] = reply.FinishReason;
        record["usage"] = new JsonObject
        {
            ["prompt_tokens"] = reply.PromptTokens,
            ["completion_tokens"] = reply.CompletionTokens,
        };
        record["sampling"] = new JsonObject
        {
            ["temperature"] = sampling.Temperature,
            ["top_p"] = sampling.TopP,
            ["max_tokens"] = sampling.MaxTokens,
            ["seed"] = sampling.Seed,
        };
        return record;
    }

    /// <summary>The (id, sample) key a record was written for, or null when the object lacks them.</summary>
    public static (string Id, int Sample)? Key(JsonObject record) =>
        record["id"] is JsonValue id && id.TryGetValue(out string? s) && record["sample"] is JsonValue n && n.TryGetValue(out int sample)
            ? (s, sample)
            : null;
}
