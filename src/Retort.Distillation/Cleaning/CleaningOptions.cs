using Retort.Distillation.Evaluation;

namespace Retort.Distillation.Cleaning;

/// <summary>The bounds and checks of <c>retort distill clean</c>.</summary>
public sealed record CleaningOptions
{
    /// <summary>Shortest completion kept, in tokens ("&lt;think&gt;\nREASONING\n&lt;/think&gt;\n\nANSWER").</summary>
    public int MinTokens { get; init; } = 512;

    public int MaxTokens { get; init; } = 2048;

    /// <summary>
    /// Traces whose estimated Jaccard similarity (MinHash over character 5-grams) with an earlier kept trace
    /// reaches this are dropped; values above 1 turn the check off.
    /// </summary>
    public double NearDuplicateThreshold { get; init; } = 0.9;

    /// <summary>Counts a completion's tokens; null uses the record's usage.completion_tokens.</summary>
    public Func<string, int>? CountTokens { get; init; }

    /// <summary>Extra special-token texts to look for (the tokenizer's own), besides the &lt;｜…｜&gt; and &lt;|…|&gt; shapes.</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = [];

    /// <summary>Reference answers for rejection sampling; null keeps traces without checking their answers.</summary>
    public IReadOnlyList<EvalItem>? References { get; init; }

    /// <summary>Runs the hidden tests of code references, so only code that passes them is kept.</summary>
    public PythonTestRunner CodeRunner { get; init; } = new();
}
