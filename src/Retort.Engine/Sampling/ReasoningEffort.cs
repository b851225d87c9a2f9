namespace Retort.Engine.Sampling;

/// <summary>
/// Named effort levels (OpenAI's reasoning_effort, Ollama's think levels) as reasoning budgets in tokens.
/// R1 distills think for hundreds of tokens on an easy question and for thousands, often past ten
/// thousand, on competition mathematics: "low" (1,024) allows a short check, "medium" (4,096) a worked
/// derivation, "high" (16,384) and "xhigh" (32,768) all but the longest traces (a context of 4,096, the
/// default, ends them first); "max" takes the limit away and "none"/"minimal" skip the thinking.
/// </summary>
public static class ReasoningEffort
{
    public const int Low = 1024, Medium = 4096, High = 16384, ExtraHigh = 32768;

    /// <summary>The level names accepted, in order of effort.</summary>
    public static IReadOnlyList<string> Levels { get; } = ["none", "minimal", "low", "medium", "high", "xhigh", "max"];

    /// <summary>The budget of a level (as <see cref="SamplingOptions.ReasoningBudget"/> takes it: -1 for "max"); false for an unknown name.</summary>
    public static bool TryBudget(string level, out int budget)
    {
        budget = level switch
        {
            "none" or "minimal" => 0,
            "low" => Low,
            "medium" => Medium,
            "high" => High,
            "xhigh" => ExtraHigh,
            "max" => -1,
            _ => int.MinValue,
        };
        return budget != int.MinValue;
    }
}
