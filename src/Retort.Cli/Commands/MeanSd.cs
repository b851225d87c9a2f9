using System.Globalization;
using System.Text.Json.Serialization;

namespace Retort.Cli.Commands;

/// <summary>A mean with its sample standard deviation and the samples behind them.</summary>
internal sealed record MeanSd(
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("sd")] double Sd,
    [property: JsonPropertyName("samples")] double[] Samples)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Mean:F2} ± {Sd:F2}");
}
