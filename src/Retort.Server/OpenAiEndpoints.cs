using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Retort.Engine.Generation;
using Retort.Engine.Sampling;
using EngineMessage = Retort.Engine.Templates.ChatMessage;

namespace Retort.Server;

/// <summary>The OpenAI-compatible API: /v1/chat/completions, /v1/completions, /v1/models.</summary>
internal static class OpenAiEndpoints
{
    public static IResult Models(ServerState state) => Results.Json(new JsonObject
    {
        ["object"] = "list",
        ["data"] = new JsonArray(new JsonObject
        {
            ["id"] = state.Service.ModelId,
            ["object"] = "model",
            ["created"] = state.Service.LoadedAt.ToUnixTimeSeconds(),
            ["owned_by"] = "retort",
        }),
    }, Json.Options);

    public static async Task ChatCompletions(HttpContext context, ServerState state)
    {
        var body = await Json.ReadObjectAsync(context);
        string? model = Json.String(body, "model");
        state.CheckModel(model);
        var messages = ReadMessages(body, state.Options.MaxMessages);
        var options = ReadSampling(body, state);
        bool stream = Json.Bool(body, "stream") ?? false;
        var prompt = state.Service.ChatPrompt(messages);
        var ct = context.RequestAborted;
        var run = await state.Service.StartAsync(prompt, options, ct);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = Json.UnixNow();
        string modelId = state.Service.ModelId;
        try
        {
            if (!stream)
            {
                var r = await run.Completion;
                state.LogGeneration("/v1/chat/completions", prompt, r);
                var message = new JsonObject { ["role"] = "assistant", ["content"] = r.Answer };
                if (r.Reasoning.Length > 0) message["reasoning_content"] = r.Reasoning;
                var response = new JsonObject
                {
                    ["id"] = id,
                    ["object"] = "chat.completion",
                    ["created"] = created,
                    ["model"] = modelId,
                    ["choices"] = new JsonArray(new JsonObject
                    {
                        ["index"] = 0,
                        ["message"] = message,
                        ["logprobs"] = null,
                        ["finish_reason"] = ServerState.FinishName(r.FinishReason),
                    }),
                    ["usage"] = Usage(r),
                };
                MarkBudget(response, r);
                await Results.Json(response, Json.Options).ExecuteAsync(context);
                return;
            }

            JsonObject Chunk(JsonObject delta, string? finish) => new()
            {
                ["id"] = id,
                ["object"] = "chat.completion.chunk",
                ["created"] = created,
                ["model"] = modelId,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish,
                }),
            };

            Sse.Begin(context.Response, "text/event-stream");
            await Sse.EventAsync(context.Response, Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null), ct);
            await foreach (var chunk in run.Chunks.ReadAllAsync(ct))
            {
                string field = chunk.Kind == TextKind.Reasoning ? "reasoning_content" : "content";
                await Sse.EventAsync(context.Response, Chunk(new JsonObject { [field] = chunk.Text }, null), ct);
            }
            var result = await run.Completion;
            state.LogGeneration("/v1/chat/completions", prompt, result);
            var last = Chunk(new JsonObject(), ServerState.FinishName(result.FinishReason));
            MarkBudget(last, result);
            last["usage"] = Usage(result);
            await Sse.EventAsync(context.Response, last, ct);
            await Sse.DoneAsync(context.Response, ct);
        }
        finally
        {
            // A client that went away (or any failure above) must not keep its slot generating.
            if (!run.Completion.IsCompleted) run.Cancel();
        }
    }

    public static async Task Completions(HttpContext context, ServerState state)
    {
        var body = await Json.ReadObjectAsync(context);
        state.CheckModel(Json.String(body, "model"));
        string text = body["prompt"] is JsonArray a
            ? a.Count == 1 ? Json.Content(a[0]) ?? ""
                : throw new ApiException(400, "'prompt' must be one string (batches are not supported)", code: "invalid_value")
            : Json.String(body, "prompt") ?? throw new ApiException(400, "'prompt' is required", code: "missing_field");
        var options = ReadSampling(body, state, defaultMaxTokens: 16);
        bool stream = Json.Bool(body, "stream") ?? false;
        var prompt = state.Service.RawPrompt(text);
        var ct = context.RequestAborted;
        var run = await state.Service.StartAsync(prompt, options, ct);
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = Json.UnixNow();
        JsonObject Body(string piece, string? finish) => new()
        {
            ["id"] = id,
            ["object"] = "text_completion",
            ["created"] = created,
            ["model"] = state.Service.ModelId,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["text"] = piece, ["index"] = 0, ["logprobs"] = null, ["finish_reason"] = finish,
            }),
        };
        try
        {
            if (!stream)
            {
                var r = await run.Completion;
                state.LogGeneration("/v1/completions", prompt, r);
                var o = Body(r.Text, ServerState.FinishName(r.FinishReason));
                MarkBudget(o, r);
                o["usage"] = Usage(r);
                await Results.Json(o, Json.Options).ExecuteAsync(context);
                return;
            }
            Sse.Begin(context.Response, "text/event-stream");
            var tagged = new TaggedText();
            await foreach (var chunk in run.Chunks.ReadAllAsync(ct))
                await Sse.EventAsync(context.Response, Body(tagged.Push(chunk), null), ct);
            var result = await run.Completion;
            state.LogGeneration("/v1/completions", prompt, result);
            var last = Body(tagged.Finish(), ServerState.FinishName(result.FinishReason));
            MarkBudget(last, result);
            last["usage"] = Usage(result);
            await Sse.EventAsync(context.Response, last, ct);
            await Sse.DoneAsync(context.Response, ct);
        }
        finally
        {
            if (!run.Completion.IsCompleted) run.Cancel();
        }
    }

    private static JsonObject Usage(GenerationResult r) => new()
    {
        ["prompt_tokens"] = r.PromptTokens.Count,
        ["completion_tokens"] = r.Tokens.Count,
        ["total_tokens"] = r.PromptTokens.Count + r.Tokens.Count,
        // OpenAI's field for prompt caching: here the prefix found in the slot's KV cache.
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = r.ReusedPromptTokens },
        // The tokens the model thought in (what a reasoning budget counts).
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = r.ReasoningTokens },
    };

    /// <summary>
    /// Retort's field on the choice: the reasoning budget closed the thinking. finish_reason keeps OpenAI's values
    /// (the official SDKs parse it as a fixed set and fail on others), and a budget does not end the generation anyway.
    /// </summary>
    private static void MarkBudget(JsonObject response, GenerationResult r) =>
        response["choices"]![0]!["reasoning_budget_exhausted"] = r.ReasoningBudgetExhausted;

    private static List<EngineMessage> ReadMessages(JsonObject body, int max)
    {
        if (body["messages"] is not JsonArray array || array.Count == 0)
            throw new ApiException(400, "'messages' must be a non-empty array", code: "invalid_value");
        if (array.Count > max)
            throw new ApiException(400, $"too many messages: {array.Count}, at most {max}", code: "invalid_value");
        var messages = new List<EngineMessage>();
        foreach (var item in array)
        {
            if (item is not JsonObject m) throw new ApiException(400, "each message must be an object", code: "invalid_value");
            string role = Json.String(m, "role") ?? throw new ApiException(400, "each message needs a 'role'", code: "missing_field");
            if (role == "developer") role = "system";
            if (role is not ("system" or "user" or "assistant" or "tool"))
                throw new ApiException(400, $"unknown message role '{role}'", code: "invalid_value");
            messages.Add(new EngineMessage(role, Json.Content(m["content"])));
        }
        return messages;
    }

    /// <summary>OpenAI's documented temperature range (the engine's own is wider).</summary>
    private const double MaxTemperature = 2;

    private static SamplingOptions ReadSampling(JsonObject body, ServerState state, int? defaultMaxTokens = null)
    {
        var d = new SamplingOptions();
        int? n = Json.Integer(body, "n");
        if (n is not (null or 1)) throw new ApiException(400, $"'n' must be 1: one choice per request, found {n}", code: "invalid_value", param: "n");
        int? max = Json.Integer(body, "max_completion_tokens") is int mct ? mct : Json.Integer(body, "max_tokens");
        string maxName = body.ContainsKey("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        float? temperature = Json.Single(body, "temperature");
        if (temperature is not (null or (>= 0 and <= (float)MaxTemperature)))
            throw new ApiException(400, $"'temperature' must be in [0, {MaxTemperature}] (OpenAI's range; 0 is greedy), found {temperature}",
                code: "invalid_value", param: "temperature");
        var options = new SamplingOptions
        {
            Temperature = temperature ?? d.Temperature,
            TopP = Json.Single(body, "top_p") ?? d.TopP,
            TopK = Json.Integer(body, "top_k") ?? d.TopK,
            MinP = Json.Single(body, "min_p") ?? d.MinP,
            PresencePenalty = Json.Single(body, "presence_penalty") ?? 0,
            FrequencyPenalty = Json.Single(body, "frequency_penalty") ?? 0,
            RepetitionPenalty = Json.Single(body, "repetition_penalty") ?? 1,
            Seed = Json.Seed(body, "seed"),
            MaxTokens = state.MaxTokens(max ?? (defaultMaxTokens is int dm ? Math.Min(dm, state.Service.ContextSize) : null), maxName),
            StopStrings = Json.Strings(body, "stop"),
            // vLLM's and llama.cpp's extension: benchmarks and tests that need a fixed length.
            IgnoreEos = Json.Bool(body, "ignore_eos") ?? false,
        };
        string? effort = Json.String(body, "reasoning_effort");
        int? effortBudget = effort == null ? null
            : ServerState.LevelBudget(effort, "reasoning_effort", "one of " + string.Join(", ", ReasoningEffort.Levels));
        // Retort's own fields: a budget in tokens (it wins over reasoning_effort) and the nudge.
        options = state.WithReasoning(options, Json.Integer(body, "reasoning_budget"), effortBudget, Json.String(body, "reasoning_nudge"));
        return ServerState.Checked(options, setting => setting switch
        {
            nameof(SamplingOptions.Temperature) => "temperature",
            nameof(SamplingOptions.TopP) => "top_p",
            nameof(SamplingOptions.TopK) => "top_k",
            nameof(SamplingOptions.MinP) => "min_p",
            nameof(SamplingOptions.PresencePenalty) => "presence_penalty",
            nameof(SamplingOptions.FrequencyPenalty) => "frequency_penalty",
            nameof(SamplingOptions.RepetitionPenalty) => "repetition_penalty",
            nameof(SamplingOptions.MaxTokens) => maxName,
            nameof(SamplingOptions.StopStrings) => "stop",
            nameof(SamplingOptions.ReasoningBudget) => "reasoning_budget",
            nameof(SamplingOptions.ReasoningNudge) => "reasoning_nudge",
            _ => setting,
        });
    }
}
