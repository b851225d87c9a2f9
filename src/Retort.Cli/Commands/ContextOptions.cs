using System.CommandLine;
using Retort.Engine.Loading;
using Retort.Engine.Model;

namespace Retort.Cli.Commands;

/// <summary>
/// --ctx and --kv-budget, shared by run and serve: bound here, decided by the engine's <see cref="ContextPlan"/>
/// (which owns the defaults and the checks), and stated the same way by every command.
/// </summary>
internal sealed class ContextOptions
{
    private readonly Option<int> _ctx = new("--ctx")
    {
        Description = "context in tokens per sequence (0: the model's trained context, capped so its KV cache fits the KV budget)",
        DefaultValueFactory = _ => 0,
    };

    private readonly Option<string?> _budget = new("--kv-budget")
    {
        Description = "memory the KV cache may take in all, e.g. 2GiB or 512MiB (default: half the memory left after the weights); " +
                      "caps the default context, and in serve the pool the slots share",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_ctx);
        command.Options.Add(_budget);
    }

    /// <summary>--ctx as given (0: the default).</summary>
    public int Context(ParseResult result) => result.GetValue(_ctx);

    /// <summary>--kv-budget in bytes, or null for the default.</summary>
    public long? Budget(ParseResult result) => result.GetValue(_budget) is { } text ? ContextPlan.ParseBytes(text) : null;

    /// <summary>The plan for a loaded model whose KV cache types are already set.</summary>
    public ContextPlan Plan(ParseResult result, LoadedModel model) => ContextPlan.For(model, Context(result), Budget(result));

    /// <summary>The warning (above the trained context) and the plan's line, on stderr so stdout stays the answer.</summary>
    public static void Print(CliIo io, ContextPlan plan)
    {
        if (plan.Warning != null) io.Error.WriteLine(plan.Warning);
        io.Error.WriteLine(plan.Statement);
        io.Error.Flush();
    }

    /// <summary>The plan as JSON fields (run --json, show --json).</summary>
    public static Dictionary<string, object?> Json(ContextPlan plan) => new()
    {
        ["context"] = plan.Context,
        ["trained_context"] = plan.TrainedContext,
        ["capped"] = plan.Capped,
        ["key_type"] = KvCacheFormat.Name(plan.KeyType),
        ["value_type"] = KvCacheFormat.Name(plan.ValueType),
        ["kv_bytes_per_token"] = plan.BytesPerToken,
        ["kv_bytes_max"] = plan.KvBytes,
        ["kv_budget_bytes"] = plan.BudgetBytes,
        ["memory_bytes"] = plan.MemoryBytes,
        ["weight_bytes"] = plan.WeightBytes,
        ["warning"] = plan.Warning,
        ["statement"] = plan.Statement,
    };
}
