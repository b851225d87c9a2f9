using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Retort.Engine.Sampling;

/// <summary>
/// How the next token is chosen. Defaults follow DeepSeek's advice for the R1 distills
/// (temperature 0.6, top-p 0.95); temperature 0 means greedy.
/// </summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; } = 0.6f;

    /// <summary>Keep only the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of tokens whose probability reaches p; 1 keeps all.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens less likely than min-p times the most likely one; 0 keeps all.</summary>
    public float MinP { get; init; }

    /// <summary>Divides positive (multiplies negative) logits of tokens already seen; 1 is off.</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Subtracted once per earlier occurrence of a token (OpenAI's frequency_penalty).</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Subtracted once from every token that occurred at all (OpenAI's presence_penalty).</summary>
    public float PresencePenalty { get; init; }

    /// <summary>How many recent tokens the penalties look at; 0 or less means all.</summary>
    public int PenaltyWindow { get; init; } = 64;

    public int? Seed { get; init; }

    public int MaxTokens { get; init; } = 4096;

    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Keep generating past end-of-sequence tokens (benchmarks, reference continuations).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>
    /// The most tokens the model may generate inside its think block (a prompt that ends in an open
    /// &lt;think&gt;, as R1 templates do, or a block the model opens itself). When they are reached the engine
    /// writes <see cref="ReasoningNudge"/> and the closing tag in the model's place and the model goes on to
    /// answer. 0: no thinking at all (the block is closed at once, without the nudge); null or -1: no limit.
    /// </summary>
    public int? ReasoningBudget { get; init; }

    /// <summary>Written before the closing tag when the budget ends the thinking; empty: the tag alone.</summary>
    public string ReasoningNudge { get; init; } = DefaultReasoningNudge;

    /// <summary>
    /// The default nudge. Budget forcing (Muennighoff et al., s1, 2025) closes the thinking with the
    /// end-of-thinking delimiter; the Qwen3 technical report's thinking budget adds a sentence first ("Considering the
    /// limited time by the user, I have to give the solution based on the thinking directly now."), which
    /// lets the model end on a conclusion instead of a cut-off thought. This is that sentence made short and
    /// neutral, in R1's first person: a dozen tokens, and it points the model at what it has already worked out.
    /// </summary>
    public const string DefaultReasoningNudge = "\n\nI have to give the answer now, based on my thinking so far.\n";

    /// <summary>The nudge is written into every budget-ended sequence: its length bounds that cost.</summary>
    public const int MaxReasoningNudgeLength = 1024;

    /// <summary>True when a budget applies (<see cref="ReasoningBudget"/> is 0 or more).</summary>
    public bool HasReasoningBudget => ReasoningBudget is >= 0;

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f, TopP = 1f };

    /// <summary>
    /// The largest temperature accepted. Any positive finite temperature is numerically safe (the
    /// sampler scales in double precision), so the bound is about use: at 5 the logit spread of a
    /// trained model (some 30 nats over plausible tokens) shrinks to about 6, which is already close to
    /// uniform noise and the limit of the high-temperature recipes that pair it with min-p; beyond it
    /// every step would also sort the whole vocabulary, as every token falls inside the sampler's head.
    /// </summary>
    public const float MaxTemperature = 5f;

    /// <summary>The repetition penalty's range: outside it a seen token is all but banned or all but forced,
    /// and dividing a logit by a tiny penalty could overflow it to infinity.</summary>
    public const float MinRepetitionPenalty = 0.1f, MaxRepetitionPenalty = 10f;

    /// <summary>Stop strings are searched for at every token: their number and length bound that work.</summary>
    public const int MaxStopStrings = 16, MaxStopStringLength = 256;

    /// <summary>Throws a <see cref="RetortException"/> naming the first setting that is out of range.</summary>
    /// <param name="nameOf">How the caller spells a setting (given its property name, such as
    /// <c>nameof(Temperature)</c>) in the message: a flag, a JSON field. Default: plain words.</param>
    public void Validate(Func<string, string>? nameOf = null)
    {
        if (!TryValidate(nameOf, out _, out string? message)) throw new RetortException(message);
    }

    /// <summary>
    /// Checks every setting; on the first one out of range returns false with its property name
    /// (<c>nameof(TopP)</c>...) and a one-line message: the setting, the range expected, the value found.
    /// </summary>
    public bool TryValidate(Func<string, string>? nameOf, [NotNullWhen(false)] out string? setting, [NotNullWhen(false)] out string? message)
    {
        nameOf ??= PlainName;
        (setting, message) = FirstProblem(nameOf);
        return setting == null;
    }

    private (string? Setting, string? Message) FirstProblem(Func<string, string> nameOf)
    {
        static string F(float value) => value.ToString(CultureInfo.InvariantCulture);

        // Range patterns are false for NaN, so NaN is refused with the rest.
        if (Temperature is not (>= 0 and <= MaxTemperature))
            return (nameof(Temperature), $"{nameOf(nameof(Temperature))} must be in [0, {F(MaxTemperature)}] (0 is greedy), found {F(Temperature)}");
        if (TopK < 0) return (nameof(TopK), $"{nameOf(nameof(TopK))} must be ≥ 0 (0 keeps all), found {TopK}");
        if (TopP is not (> 0 and <= 1)) return (nameof(TopP), $"{nameOf(nameof(TopP))} must be in (0, 1], found {F(TopP)}");
        if (MinP is not (>= 0 and <= 1)) return (nameof(MinP), $"{nameOf(nameof(MinP))} must be in [0, 1], found {F(MinP)}");
        if (RepetitionPenalty is not (>= MinRepetitionPenalty and <= MaxRepetitionPenalty))
            return (nameof(RepetitionPenalty),
                $"{nameOf(nameof(RepetitionPenalty))} must be in [{F(MinRepetitionPenalty)}, {F(MaxRepetitionPenalty)}] (1 is off), found {F(RepetitionPenalty)}");
        if (FrequencyPenalty is not (>= -2 and <= 2))
            return (nameof(FrequencyPenalty), $"{nameOf(nameof(FrequencyPenalty))} must be in [-2, 2], found {F(FrequencyPenalty)}");
        if (PresencePenalty is not (>= -2 and <= 2))
            return (nameof(PresencePenalty), $"{nameOf(nameof(PresencePenalty))} must be in [-2, 2], found {F(PresencePenalty)}");
        if (MaxTokens < 1) return (nameof(MaxTokens), $"{nameOf(nameof(MaxTokens))} must be at least 1, found {MaxTokens}");
        if (StopStrings.Count > MaxStopStrings)
            return (nameof(StopStrings), $"{nameOf(nameof(StopStrings))} holds {StopStrings.Count} strings, at most {MaxStopStrings}");
        foreach (string stop in StopStrings)
            if (stop.Length > MaxStopStringLength)
                return (nameof(StopStrings), $"{nameOf(nameof(StopStrings))} has a string of {stop.Length} characters, at most {MaxStopStringLength}");
        if (ReasoningBudget < -1)
            return (nameof(ReasoningBudget), $"{nameOf(nameof(ReasoningBudget))} must be a number of tokens ≥ 0 (0: no thinking) or -1 (no limit), found {ReasoningBudget}");
        if (ReasoningNudge is null) return (nameof(ReasoningNudge), $"{nameOf(nameof(ReasoningNudge))} must be a text (empty for none), found null");
        if (ReasoningNudge.Length > MaxReasoningNudgeLength)
            return (nameof(ReasoningNudge), $"{nameOf(nameof(ReasoningNudge))} has {ReasoningNudge.Length} characters, at most {MaxReasoningNudgeLength}");
        // The nudge is reasoning text: a tag in it would end (or restart) the block before the engine's own closing tag.
        foreach (string tag in (string[])[Generation.ReasoningSplitter.OpenTag, Generation.ReasoningSplitter.CloseTag])
            if (ReasoningNudge.Contains(tag, StringComparison.Ordinal))
                return (nameof(ReasoningNudge), $"{nameOf(nameof(ReasoningNudge))} must not contain the tag {tag} (the engine writes the closing tag itself), found one in it");
        return (null, null);
    }

    private static string PlainName(string property) => property switch
    {
        nameof(Temperature) => "temperature",
        nameof(TopK) => "top-k",
        nameof(TopP) => "top-p",
        nameof(MinP) => "min-p",
        nameof(RepetitionPenalty) => "repetition penalty",
        nameof(FrequencyPenalty) => "frequency penalty",
        nameof(PresencePenalty) => "presence penalty",
        nameof(MaxTokens) => "max tokens",
        nameof(StopStrings) => "stop",
        nameof(ReasoningBudget) => "reasoning budget",
        nameof(ReasoningNudge) => "reasoning nudge",
        _ => property,
    };
}
