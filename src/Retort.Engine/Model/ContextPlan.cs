using System.Globalization;
using Retort.Engine.Loading;

namespace Retort.Engine.Model;

/// <summary>
/// The context a model runs with and the KV cache memory it may take: the one definition behind
/// <c>run</c>, <c>serve</c>, <c>show</c> and local distillation models. By default the context is the
/// model's trained context (<see cref="ModelConfig.ContextLength"/>) unless a full KV cache for it
/// would exceed the KV budget; then it is the largest whole number of pages that fits. The budget is
/// <see cref="DefaultBudgetShare"/> of the memory left after the weights unless the user sets one
/// (--kv-budget). Pages are taken as a sequence grows, so every figure here is an "up to".
/// </summary>
/// <remarks>
/// Half, because the other half has to hold what the budget does not see: the forward pass's
/// buffers and the growing RoPE table, the page cache that keeps the memory-mapped weights resident
/// (the weights figure is what is subtracted, not what the OS may need around it), the .NET heap's
/// headroom, and the rest of the machine. A full cache at the default never takes the machine's last
/// gigabytes, and a user who knows better raises the budget or sets --ctx.
/// </remarks>
public sealed class ContextPlan
{
    /// <summary>The share of the memory left after the weights that KV caches may take unless --kv-budget says otherwise.</summary>
    public const double DefaultBudgetShare = 0.5;

    private ContextPlan()
    {
    }

    /// <summary>Tokens per sequence (prompt and answer).</summary>
    public int Context { get; private init; }

    /// <summary>The context the model was trained for.</summary>
    public int TrainedContext { get; private init; }

    public KvCacheType KeyType { get; private init; }

    public KvCacheType ValueType { get; private init; }

    /// <summary>KV cache bytes of one position over every layer.</summary>
    public long BytesPerToken { get; private init; }

    /// <summary>Bytes of one page of <see cref="KvCache.PageSize"/> positions.</summary>
    public long PageBytes => BytesPerToken * KvCache.PageSize;

    /// <summary>Bytes of one sequence's KV cache when its whole context is filled (the most it takes).</summary>
    public long KvBytes => BytesPerToken * Context;

    /// <summary>What KV caches may take in all.</summary>
    public long BudgetBytes { get; private init; }

    /// <summary>True when the budget is the user's (--kv-budget), false for the default share.</summary>
    public bool BudgetGiven { get; private init; }

    /// <summary>True when the context is the user's (--ctx).</summary>
    public bool ContextGiven { get; private init; }

    /// <summary>True when the default context is below the trained one because the budget could not hold it.</summary>
    public bool Capped { get; private init; }

    /// <summary>The machine's memory as the process may use it.</summary>
    public long MemoryBytes { get; private init; }

    public long WeightBytes { get; private init; }

    /// <summary>Memory left after the weights: the most a KV cache may ever take.</summary>
    public long MemoryLeftBytes => Math.Max(0, MemoryBytes - WeightBytes);

    /// <summary>A line for stderr when the context is above the trained one, else null.</summary>
    public string? Warning { get; private init; }

    /// <summary>The line a command prints at start, e.g. "context 32768 (the model's), KV cache q8_0 up to 0.47 GiB".</summary>
    public string Statement { get; private init; } = "";

    /// <summary>Memory the process may use on this machine (the container's limit where there is one).</summary>
    public static long MachineMemoryBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The plan for a loaded model with the KV cache types set on its transformer, on this machine.</summary>
    /// <param name="requestedContext">--ctx: 0 for the default.</param>
    /// <param name="kvBudgetBytes">--kv-budget: null for the default share of the memory left after the weights.</param>
    /// <exception cref="RetortException">A setting out of range, or a context the memory cannot hold.</exception>
    public static ContextPlan For(LoadedModel model, int requestedContext = 0, long? kvBudgetBytes = null) =>
        Decide(model.Config, model.Transformer.KeyCacheType, model.Transformer.ValueCacheType, model.WeightBytes, MachineMemoryBytes,
            requestedContext, kvBudgetBytes);

    /// <summary>The plan for a model shape, its weights' size and a machine's memory (tests give their own figure).</summary>
    /// <exception cref="RetortException">A setting out of range, or a context the memory cannot hold.</exception>
    public static ContextPlan Decide(ModelConfig config, KvCacheType keyType, KvCacheType valueType, long weightBytes, long memoryBytes,
        int requestedContext = 0, long? kvBudgetBytes = null)
    {
        KvCacheFormat.Check(config, keyType, "--cache-type-k");
        KvCacheFormat.Check(config, valueType, "--cache-type-v");
        if (requestedContext < 0 || requestedContext == 1)
            throw new RetortException($"--ctx must be 0 (the model's trained context, within the KV budget) or at least 2, found {requestedContext}");
        if (requestedContext > ModelConfig.MaxContextLength)
            throw new RetortException($"--ctx must be at most {ModelConfig.MaxContextLength}, found {requestedContext}");
        long perToken = KvCacheFormat.BytesPerToken(config, keyType, valueType);
        long pageBytes = perToken * KvCache.PageSize;
        long left = Math.Max(0, memoryBytes - Math.Max(0, weightBytes));
        string types = keyType == valueType ? KvCacheFormat.Name(keyType) : $"{KvCacheFormat.Name(keyType)} keys/{KvCacheFormat.Name(valueType)} values";

        long budget;
        string budgetName;
        if (kvBudgetBytes is long given)
        {
            if (given < pageBytes)
                throw new RetortException($"--kv-budget {Bytes(given)} holds less than one page of the KV cache ({KvCache.PageSize} positions of {types} " +
                                          $"take {Bytes(pageBytes)})");
            if (given > left)
                throw new RetortException($"--kv-budget {Bytes(given)} is more than the {Bytes(left)} of memory left after the weights " +
                                          $"({Bytes(weightBytes)} of {Bytes(memoryBytes)})");
            (budget, budgetName) = (given, "--kv-budget");
        }
        else
        {
            (budget, budgetName) = ((long)(left * DefaultBudgetShare), "half the memory left after the weights");
        }

        int trained = config.ContextLength;
        int context;
        string reason;
        string? warning = null;
        bool capped = false;
        if (requestedContext > 0)
        {
            context = requestedContext;
            long full = perToken * context;
            if (full > left)
                throw new RetortException($"--ctx {context} needs a {Bytes(full)} KV cache ({types}) when full, more than the {Bytes(left)} of memory " +
                                          $"left after the weights; the largest context that fits is {Math.Min(left / perToken, int.MaxValue)}");
            reason = full > budget ? $"--ctx, above the {Bytes(budget)} KV budget ({budgetName})" : "--ctx";
            if (context > trained)
                warning = $"warning: --ctx {context} is above the {trained} positions the model was trained on: RoPE positions beyond them " +
                          "were never seen in training, and answers that reach them degrade";
        }
        else if (perToken * trained <= budget)
        {
            (context, reason) = (trained, "the model's");
        }
        else
        {
            long fits = budget / perToken / KvCache.PageSize * KvCache.PageSize;
            capped = true;
            if (fits >= KvCache.PageSize)
            {
                context = (int)Math.Min(fits, trained);
                reason = $"the model's {trained} would need a {Bytes(perToken * trained)} KV cache, more than the {Bytes(budget)} budget " +
                         $"({budgetName}); --ctx or --kv-budget change it";
            }
            else
            {
                // Only the default budget gets here (a given one holds a page): too little memory is left for
                // even one page, and a context the size of a page is still the most useful thing to run.
                context = Math.Min(trained, KvCache.PageSize);
                reason = $"the model's {trained} would need a {Bytes(perToken * trained)} KV cache, and only {Bytes(left)} of memory is left after the weights";
            }
        }

        return new ContextPlan
        {
            Context = context, TrainedContext = trained, KeyType = keyType, ValueType = valueType, BytesPerToken = perToken,
            BudgetBytes = budget, BudgetGiven = kvBudgetBytes != null, ContextGiven = requestedContext > 0, Capped = capped,
            MemoryBytes = memoryBytes, WeightBytes = weightBytes, Warning = warning,
            Statement = $"context {context} ({reason}), KV cache {types} up to {Bytes(perToken * context)}",
        };
    }

    /// <summary>
    /// Pages a pool shared by <paramref name="sequences"/> sequences may hold: as many as the budget allows, never
    /// more than every sequence at full context. A default budget still holds one full context when --ctx asked for more
    /// than the budget (the memory check allowed it); a given budget is kept to.
    /// </summary>
    public int SharedPages(int sequences)
    {
        if (sequences < 1) throw new ArgumentOutOfRangeException(nameof(sequences));
        long contextPages = KvCache.PagesFor(Context);
        long budgetPages = BudgetBytes / PageBytes;
        long pages = BudgetGiven ? budgetPages : Math.Max(budgetPages, contextPages);
        return (int)Math.Clamp(Math.Min(pages, sequences * contextPages), 1, int.MaxValue);
    }

    /// <summary>The line a server adds: the shared pool, and what one request can hold when that is less than a context.</summary>
    public string SharedStatement(int sequences)
    {
        int pages = SharedPages(sequences);
        long positions = (long)pages * KvCache.PageSize;
        string line = $"KV pool shared by {sequences} slot(s): up to {pages} pages of {KvCache.PageSize} positions ({positions} tokens, {Bytes(pages * PageBytes)})";
        return positions < Context ? line + $"; a request can hold at most {positions} tokens (--kv-budget)" : line;
    }

    /// <summary>Bytes as GiB or MiB, for messages (the KV cache's own formatting).</summary>
    public static string Bytes(long bytes) => KvCache.ByteSize(bytes);

    /// <summary>
    /// Parses a size such as "512MiB", "2G", "1.5GiB" or "1073741824": K, M, G and T (with or without "iB") are powers of
    /// 1024, KB, MB, GB and TB powers of 1000; <paramref name="option"/> names the option in the error.
    /// </summary>
    /// <exception cref="RetortException">Not a positive size.</exception>
    public static long ParseBytes(string text, string option = "--kv-budget")
    {
        string s = (text ?? "").Trim();
        int end = 0;
        while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] == '.')) end++;
        string unit = s[end..].Trim().ToUpperInvariant();
        double scale = unit switch
        {
            "" or "B" => 1,
            "K" or "KIB" => 1L << 10,
            "M" or "MIB" => 1L << 20,
            "G" or "GIB" => 1L << 30,
            "T" or "TIB" => 1L << 40,
            "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "TB" => 1e12,
            _ => 0,
        };
        if (end == 0 || scale == 0 || !double.TryParse(s.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number) ||
            number * scale < 1 || number * scale > long.MaxValue / 2)
            throw new RetortException($"{option} must be a size such as 512MiB, 4GiB or 2G (bytes without a unit), found '{text}'");
        return (long)(number * scale);
    }
}
