namespace Retort.Distillation.Evaluation;

/// <summary>A model's result on a data set: accuracy as mean pass@1, output length, speed, and every item.</summary>
public sealed record ModelScore(string Model, int SamplesPerItem, IReadOnlyList<ItemResult> Items, long OutputTokens, TimeSpan GenerationTime)
{
    /// <summary>Mean over problems of the fraction of samples that were right.</summary>
    public double Accuracy => Items.Count == 0 ? 0 : Items.Average(i => i.PassAt1);

    public int SampleCount => Items.Sum(i => i.Samples.Count);

    /// <summary>Code answers whose tests could not be run (no Python): counted as not right, and reported.</summary>
    public int UncheckedSamples => Items.Sum(i => i.Samples.Count(s => s.Unchecked));

    public double MeanOutputTokens => SampleCount == 0 ? 0 : OutputTokens / (double)SampleCount;

    /// <summary>Accuracy per group (task family, subject), in order of first appearance; empty when no item has one.</summary>
    public IReadOnlyList<(string Group, int Items, double Accuracy)> AccuracyByGroup =>
        Items.Any(i => i.Group != null)
            ? Items.GroupBy(i => i.Group ?? "(none)").Select(g => (g.Key, g.Count(), g.Average(i => i.PassAt1))).ToList()
            : [];

    /// <summary>Output tokens per second of generation (0 when the model reported no token counts).</summary>
    public double TokensPerSecond => GenerationTime.TotalSeconds > 0 ? OutputTokens / GenerationTime.TotalSeconds : 0;
}
