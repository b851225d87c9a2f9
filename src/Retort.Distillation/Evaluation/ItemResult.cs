namespace Retort.Distillation.Evaluation;

/// <summary>The K samples of one problem.</summary>
public sealed record ItemResult(string Id, string Reference, IReadOnlyList<SampleResult> Samples, string? Group = null)
{
    /// <summary>pass@1 of this problem estimated from K samples: the fraction that were right.</summary>
    public double PassAt1 => Samples.Count == 0 ? 0 : Samples.Count(s => s.Correct) / (double)Samples.Count;
}
