using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Retort.Engine.Tensors;

namespace Retort.Benchmarks;

/// <summary>GB/s of weight bytes read per call, from the Type and Shape parameters and the mean time.</summary>
public sealed class WeightBandwidthColumn : IColumn
{
    public string Id => nameof(WeightBandwidthColumn);
    public string ColumnName => "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Weight bytes read per second (1e9 bytes)";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats == null) return "-";
        string? type = benchmarkCase.Parameters["Type"] as string;
        string? shape = benchmarkCase.Parameters["Shape"] as string;
        if (type == null || shape == null) return "-";
        var (cols, rows) = MatVecCase.ParseShape(shape);
        double bytes = GgmlTypeInfo.RowBytes(Enum.Parse<GgmlType>(type), cols) * (double)rows;
        return (bytes / stats.Mean).ToString("F1"); // bytes per ns = GB/s
    }
}
