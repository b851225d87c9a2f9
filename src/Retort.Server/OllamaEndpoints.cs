using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Retort.Engine.Generation;
using Retort.Engine.Sampling;
using EngineMessage = Retort.Engine.Templates.ChatMessage;

namespace Retort.Server;

/// <summary>The Ollama-compatible API: /api/chat, /api/generate, /api/tags, /api/show, /api/version.</summary>
internal static class OllamaEndpoints
{
    public static IResult Version() => Results.Json(new JsonObject
    {
        ["version"] = typeof(OllamaEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0",
    }, Json.Options);

    public static IResult Tags(ServerState state)
    {
        var s = state.Service;
        return Results.Json(new JsonObject
        {
            ["models"] = new JsonArray(new JsonObject
            {
                ["name"] = s.ModelId + ":latest",
                ["model"] = s.ModelId + ":latest",
                ["modified_at"] = ModifiedAt(s),
                ["size"] = ModelSize(s),
                ["digest"] = "",
                ["details"] = Details(s),
            }),
        }, Json.Options);
    }

    public static async Task Show(HttpContext context, ServerState state)
    {
        var body = await Json.ReadObjectAsync(context);
        string? name = Json.String(body, "model") ?? Json.String(body, "name");
        if (string.IsNullOrEmpty(name)) throw new ApiException(400, "'model' is required", code: "missing_field");
        state.CheckModel(name);
        var s = state.Service;
        var c = s.Model.Config;
        string arch = c.Architecture;
        await Results.Json(new JsonObject
        {
            ["license"] = "",
            ["modelfile"] = "",
            ["parameters"] = "",
            ["template"] = s.Model.ChatTemplateSource ?? "",
            ["details"] = Details(s),
            ["model_info"] = new JsonObject
            {
                ["general.architecture"] = arch,
                ["general.parameter_count"] = s.Model.ParameterCount,
                [arch + ".context_length"] = c.ContextLength,
                [arch + ".embedding_length"] = c.HiddenSize,
                [arch + ".block_count"] = c.LayerCount,
                [arch + ".attention.head_count"] = c.HeadCount,
                [arch + ".attention.head_count_kv"] = c.KvHeadCount,
                [arch + ".feed_forward_length"] = c.FeedForwardSize,
                [arch + ".vocab_size"] = c.VocabSize,
            },
            ["capabilities"] = new JsonArray("completion", "thinking"),
            ["modified_at"] = ModifiedAt(s),
        }, Json.Options).ExecuteAsync(context);
    }

    public static async Task Chat(HttpContext context, ServerState state)
    {
        var body = await Json.ReadObjectAsync(context);
        state.CheckModel(Json.String(body, "model"));
        if (body["messages"] is not JsonArray array || array.Count == 0)
            throw new ApiException(400, "'messages' must be a non-empty array", code: "invalid_value");
        if (array.Count > state.Options.MaxMessages)
            throw new ApiException(400, $"too many messages: {array.Count}, at most {state.Options.MaxMessages}", code: "invalid_value");
        var messages = new List<EngineMessage>();
        foreach (var item in array)
        {
            if (item is not JsonObject m) throw new ApiException(400, "each message must be an object", code: "invalid_value");
            string role = Json.String(m, "role") ?? throw new ApiException(400, "each message needs a 'role'", code: "missing_field");
            if (role is not ("system" or "user" or "assistant" or "tool"))
                throw new ApiException(400, $"unknown message role '{role}'", code: "invalid_value");
            messages.Add(new EngineMessage(role, Json.String(m, "content") ?? ""));
        }
        var prompt = state.Service.ChatPrompt(messages);
        await Respond(context, state, body, prompt, "/api/chat", chat: true);
    }

    public static async Task Generate(HttpContext context, ServerState state)
    {
        var body = await Json.ReadObjectAsync(context);
        state.CheckModel(Json.String(body, "model"));
        string text = Json.String(body, "prompt") ?? "";
        string? system = Json.String(body, "system");
        Prompt prompt;
        if (Json.Bool(body, "raw") ?? false) prompt = state.Service.RawPrompt(text);
        else
        {
            var messages = new List<EngineMessage>();
            if (!string.IsNullOrEmpty(system)) messages.Add(new EngineMessage("system", system));
            messages.Add(new EngineMessage("user", text));
            prompt = state.Service.ChatPrompt(messages);
        }
        await Respond(context, state, body, prompt, "/api/generate", chat: false);
    }

    private static async Task Respond(HttpContext context, ServerState state, JsonObject body, Prompt prompt, string endpoint, bool chat)
    {
        var (think, thinkBudget) = ReadThink(body);
        var options = ReadOptions(body, state, thinkBudget);
        bool stream = Json.Bool(body, "stream") ?? true;
        // think true or a level: thinking and answer apart; false: the answer alone (Ollama asks the model not to
        // think, here a budget of 0); absent: the text as the model wrote it, the reasoning between its tags.
        bool apart = think == true, hidden = think == false;
        var ct = context.RequestAborted;
        var clock = Stopwatch.StartNew();
        var run = await state.Service.StartAsync(prompt, options, ct);
        string model = Json.String(body, "model") ?? state.Service.ModelId + ":latest";

        JsonObject Piece(string content, string thinking, bool done)
        {
            var o = new JsonObject { ["model"] = model, ["created_at"] = Now() };
            if (chat)
            {
                var message = new JsonObject { ["role"] = "assistant", ["content"] = content };
                if (thinking.Length > 0) message["thinking"] = thinking;
                o["message"] = message;
            }
            else
            {
                o["response"] = content;
                if (thinking.Length > 0) o["thinking"] = thinking;
            }
            o["done"] = done;
            return o;
        }

        JsonObject Final(GenerationResult r, string content, string thinking)
        {
            var o = Piece(content, thinking, true);
            o["done_reason"] = ServerState.FinishName(r.FinishReason);
            o["total_duration"] = Nanoseconds(clock.Elapsed);
            o["load_duration"] = 0;
            o["prompt_eval_count"] = r.PromptTokens.Count;
            o["prompt_eval_duration"] = Nanoseconds(r.PromptTime);
            o["eval_count"] = r.Tokens.Count;
            o["eval_duration"] = Nanoseconds(r.GenerationTime);
            // Retort's fields: done_reason keeps Ollama's values, as a budget does not end the generation.
            o["reasoning_tokens"] = r.ReasoningTokens;
            o["reasoning_budget_exhausted"] = r.ReasoningBudgetExhausted;
            return o;
        }

        try
        {
            if (!stream)
            {
                var r = await run.Completion;
                state.LogGeneration(endpoint, prompt, r);
                var final = apart ? Final(r, r.Answer, r.Reasoning) : hidden ? Final(r, r.Answer, "") : Final(r, TaggedText.Join(r), "");
                await Results.Json(final, Json.Options).ExecuteAsync(context);
                return;
            }
            Sse.Begin(context.Response, "application/x-ndjson");
            var tagged = new TaggedText();
            await foreach (var chunk in run.Chunks.ReadAllAsync(ct))
            {
                if (hidden && chunk.Kind == TextKind.Reasoning) continue;
                var piece = !apart && !hidden ? Piece(tagged.Push(chunk), "", false)
                    : chunk.Kind == TextKind.Reasoning ? Piece("", chunk.Text, false) : Piece(chunk.Text, "", false);
                await Sse.LineAsync(context.Response, piece, ct);
            }
            var result = await run.Completion;
            state.LogGeneration(endpoint, prompt, result);
            await Sse.LineAsync(context.Response, Final(result, apart || hidden ? "" : tagged.Finish(), ""), ct);
        }
        finally
        {
            if (!run.Completion.IsCompleted) run.Cancel();
        }
    }

    private const string ThinkValues = "true, false or a level (low, medium, high; also none, minimal, xhigh, max)";

    /// <summary>
    /// Ollama's "think": true or false, or a level name (Ollama's low, medium and high for gpt-oss). Returns
    /// whether thinking is shown (null: not said) and the budget it implies (false: 0; a level: its budget).
    /// </summary>
    private static (bool? Think, int? Budget) ReadThink(JsonObject body)
    {
        var n = body["think"];
        if (n == null) return (null, null);
        if (n is JsonValue v)
        {
            if (v.TryGetValue(out bool b)) return (b, b ? null : 0);
            if (v.TryGetValue(out string? level))
                return level switch
                {
                    "true" => (true, null),
                    "false" => (false, 0),
                    _ => (true, ServerState.LevelBudget(level, "think", ThinkValues)),
                };
        }
        throw new ApiException(400, $"'think' must be {ThinkValues}, found {Json.Kind(n)}",
            code: "invalid_value", param: "think");
    }

    private static SamplingOptions ReadOptions(JsonObject body, ServerState state, int? thinkBudget)
    {
        if (body["options"] is not (null or JsonObject))
            throw new ApiException(400, "'options' must be an object", code: "invalid_value", param: "options");
        var o = body["options"] as JsonObject ?? new JsonObject();
        var d = new SamplingOptions();
        int? predict = Json.Integer(o, "num_predict");
        // Ollama: -1 is "no limit" and -2 "fill the context"; both end at the context here.
        int? max = predict is null or < 0 ? null : predict;
        var options = new SamplingOptions
        {
            Temperature = Json.Single(o, "temperature") ?? d.Temperature,
            TopP = Json.Single(o, "top_p") ?? d.TopP,
            TopK = Json.Integer(o, "top_k") ?? d.TopK,
            MinP = Json.Single(o, "min_p") ?? d.MinP,
            RepetitionPenalty = Json.Single(o, "repeat_penalty") ?? d.RepetitionPenalty,
            PresencePenalty = Json.Single(o, "presence_penalty") ?? 0,
            FrequencyPenalty = Json.Single(o, "frequency_penalty") ?? 0,
            PenaltyWindow = Json.Integer(o, "repeat_last_n") ?? d.PenaltyWindow,
            Seed = Json.Seed(o, "seed"),
            MaxTokens = state.MaxTokens(max, "num_predict"),
            StopStrings = Json.Strings(o, "stop"),
            // Not an Ollama option: Retort's, as on the OpenAI endpoints, for fixed-length runs.
            IgnoreEos = Json.Bool(o, "ignore_eos") ?? false,
        };
        // Retort's options, as on the OpenAI endpoints: a budget in tokens wins over the one "think" implies.
        options = state.WithReasoning(options, Json.Integer(o, "reasoning_budget"), thinkBudget, Json.String(o, "reasoning_nudge"));
        return ServerState.Checked(options, setting => setting switch
        {
            nameof(SamplingOptions.Temperature) => "temperature",
            nameof(SamplingOptions.TopP) => "top_p",
            nameof(SamplingOptions.TopK) => "top_k",
            nameof(SamplingOptions.MinP) => "min_p",
            nameof(SamplingOptions.RepetitionPenalty) => "repeat_penalty",
            nameof(SamplingOptions.PresencePenalty) => "presence_penalty",
            nameof(SamplingOptions.FrequencyPenalty) => "frequency_penalty",
            nameof(SamplingOptions.MaxTokens) => "num_predict",
            nameof(SamplingOptions.StopStrings) => "stop",
            nameof(SamplingOptions.ReasoningBudget) => "reasoning_budget",
            nameof(SamplingOptions.ReasoningNudge) => "reasoning_nudge",
            _ => setting,
        });
    }

    private static JsonObject Details(InferenceService s) => new()
    {
        ["parent_model"] = "",
        ["format"] = s.Model.Format,
        ["family"] = s.Model.Config.Architecture,
        ["families"] = new JsonArray(s.Model.Config.Architecture),
        ["parameter_size"] = ParameterSize(s.Model.ParameterCount),
        ["quantization_level"] = QuantizationLevel(s),
    };

    private static string ParameterSize(long n) => n >= 1_000_000_000
        ? (n / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + "B"
        : (n / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + "M";

    /// <summary>The type of most weight bytes, as Ollama names it (Q8_0, Q4_K, F16...).</summary>
    private static string QuantizationLevel(InferenceService s) =>
        s.Model.Weights.Tensors.Values.Where(t => t.Shape.Length >= 2)
            .GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ElementCount)).Select(g => g.Key.ToString()).FirstOrDefault() ?? "";

    private static long ModelSize(InferenceService s) => File.Exists(s.Model.Path)
        ? new FileInfo(s.Model.Path).Length
        : Directory.EnumerateFiles(s.Model.Path, "*.safetensors").Sum(f => new FileInfo(f).Length);

    private static string ModifiedAt(InferenceService s) =>
        (File.Exists(s.Model.Path) ? File.GetLastWriteTimeUtc(s.Model.Path) : Directory.GetLastWriteTimeUtc(s.Model.Path)).ToString("o");

    private static string Now() => DateTime.UtcNow.ToString("o");

    private static long Nanoseconds(TimeSpan t) => t.Ticks * 100;
}
