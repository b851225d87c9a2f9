namespace Retort.Distillation.Evaluation;

/// <summary>A model's result on a data set: accuracy as mean pass@1, output length, speed, and every item.</summary>
public sealed record ModelScore(string Model, int SamplesPerItem, IReadOnlyList<ItemResult> Items, long OutputTokens, TimeSpan GenerationTime)
{
    /// <summary>Mean over problems of the fraction of samples that were right.</summary>
    public double Accuracy => Items.Count == 0 ? 0 : Items.Average(i => i.PassAt1);

    public int SampleCount => Items.Sum(i => i.Samples.Count);

    public double MeanOutputTokens => SampleCount == 0 ? 0 : OutputTokens / (double)SampleCount;

    /// <summary>Output tokens per second of generation (0 when the model reported no token counts).</summary>
    public double TokensPerSecond => GenerationTime.TotalSeconds > 0 ? OutputTokens / GenerationTime.TotalSeconds : 0;
}
