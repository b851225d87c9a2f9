using Retort.Engine.Generation;
using Retort.Engine.Sampling;

namespace Retort.Server;

/// <summary>What every endpoint shares: the engine, the counters, the settings and the log.</summary>
internal sealed class ServerState(InferenceService service, ServerOptions options, TextWriter? log)
{
    private readonly object _logGate = new();

    public InferenceService Service { get; } = service;

    public ServerOptions Options { get; } = options;

    public ServerMetrics Metrics => Service.Metrics;

    public void Log(string line)
    {
        if (log == null) return;
        lock (_logGate) log.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss} {line}");
    }

    /// <summary>Logs a finished generation: sizes and timings always, the text only with --log-prompts.</summary>
    public void LogGeneration(string endpoint, Prompt prompt, GenerationResult r)
    {
        Log($"{endpoint}: {r.PromptTokens.Count} prompt tokens ({r.ReusedPromptTokens} reused), {r.Tokens.Count} generated, " +
            $"{r.ReasoningTokens} reasoning{(r.ReasoningBudgetExhausted ? " (ended by the budget)" : "")}, " +
            $"finish {r.FinishReason.ToString().ToLowerInvariant()}, {(r.PromptTime + r.GenerationTime).TotalMilliseconds:F0} ms");
        if (Options.LogPrompts) Log($"{endpoint}: prompt {Escape(prompt.Text)}\n{endpoint}: output {Escape(r.Text)}");
    }

    private static string Escape(string s) => System.Text.Json.JsonSerializer.Serialize(s, Json.Options);

    /// <summary>The model must be this one (an absent name means it too); anything else is 404.</summary>
    public void CheckModel(string? name)
    {
        if (!Service.IsThisModel(name))
            throw new ApiException(404, $"the model '{name}' does not exist; this server has '{Service.ModelId}'",
                code: "model_not_found");
    }

    /// <summary>max_tokens and friends: at least 1, at most the context.</summary>
    public int MaxTokens(int? requested, string name)
    {
        if (requested == null) return Service.ContextSize;
        if (requested < 1 || requested > Service.ContextSize)
            throw new ApiException(400, $"'{name}' must be between 1 and the context size {Service.ContextSize}, found {requested}",
                code: "invalid_value", param: name);
        return requested.Value;
    }

    /// <summary>
    /// A request's reasoning settings over the server's: its own budget first, then the budget of the level
    /// it named (reasoning_effort, think), then --reasoning-budget; its nudge, else --reasoning-nudge, else the engine's.
    /// </summary>
    public SamplingOptions WithReasoning(SamplingOptions options, int? budget, int? levelBudget, string? nudge) => options with
    {
        ReasoningBudget = budget ?? levelBudget ?? Options.ReasoningBudget,
        ReasoningNudge = nudge ?? Options.ReasoningNudge ?? options.ReasoningNudge,
    };

    /// <summary>A level name (reasoning_effort, think) as its budget; anything else is a 400 naming the field and the levels.</summary>
    public static int LevelBudget(string level, string field, string expected) =>
        ReasoningEffort.TryBudget(level, out int budget) ? budget
            : throw new ApiException(400, $"'{field}' must be {expected}, found '{Json.Shorten(level)}'", code: "invalid_value", param: field);

    /// <summary>The engine's range checks on a request's sampling settings, as a 400 naming the request's own field.</summary>
    public static SamplingOptions Checked(SamplingOptions options, Func<string, string> field)
    {
        if (!options.TryValidate(setting => $"'{field(setting)}'", out string? setting, out string? message))
            throw new ApiException(400, message, code: "invalid_value", param: field(setting));
        return options;
    }

    public static string FinishName(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";
}
