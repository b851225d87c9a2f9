using System.Globalization;
using System.Text.Json.Serialization;

namespace Retort.Cli.Commands;

/// <summary>A mean with its sample standard deviation and the samples behind them.</summary>
internal sealed record MeanSd(
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("sd")] double Sd,
    [property: JsonPropertyName("samples")] double[] Samples)
{
    /// <summary>The mean and sample sd (n − 1) of <paramref name="samples"/>; sd 0 for a single sample.</summary>
    public static MeanSd Of(IReadOnlyList<double> samples)
    {
        double mean = samples.Average();
        double sd = samples.Count > 1 ? Math.Sqrt(samples.Sum(x => (x - mean) * (x - mean)) / (samples.Count - 1)) : 0;
        return new MeanSd(mean, sd, [.. samples]);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Mean:F2} ± {Sd:F2}");
}
