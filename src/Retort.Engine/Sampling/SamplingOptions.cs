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

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f, TopP = 1f };

    /// <summary>Throws a <see cref="RetortException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new RetortException(message);
        }

        Check(float.IsFinite(Temperature) && Temperature >= 0, $"temperature must be ≥ 0, found {Temperature}");
        Check(TopK >= 0, $"top-k must be ≥ 0, found {TopK}");
        Check(TopP is > 0 and <= 1, $"top-p must be in (0, 1], found {TopP}");
        Check(MinP is >= 0 and <= 1, $"min-p must be in [0, 1], found {MinP}");
        Check(float.IsFinite(RepetitionPenalty) && RepetitionPenalty > 0, $"repetition penalty must be > 0, found {RepetitionPenalty}");
        Check(float.IsFinite(FrequencyPenalty) && FrequencyPenalty is >= -2 and <= 2, $"frequency penalty must be in [-2, 2], found {FrequencyPenalty}");
        Check(float.IsFinite(PresencePenalty) && PresencePenalty is >= -2 and <= 2, $"presence penalty must be in [-2, 2], found {PresencePenalty}");
        Check(MaxTokens >= 0, $"max tokens must be ≥ 0, found {MaxTokens}");
    }
}
