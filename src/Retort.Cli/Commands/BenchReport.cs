using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Retort.Engine.Model;
using Spectre.Console;

namespace Retort.Cli.Commands;

/// <summary>What `retort bench` measured, written as a table, CSV, JSON or markdown (llama-bench's -o).</summary>
internal sealed record BenchReport(
    string Model,
    string Architecture,
    long Parameters,
    long FileBytes,
    int Threads,
    int Repetitions,
    double LoadSeconds,
    double InterleaveSeconds,
    long PeakRssBytes,
    string Kernels,
    IReadOnlyList<BenchResult> Results)
{
    /// <summary>The names -o accepts.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["table", "csv", "json", "md"];

    private static readonly string[] TableColumns = ["model", "size", "params", "threads", "type_k", "type_v", "test", "depth", "t/s"];

    public void WriteJson(TextWriter output)
    {
        var root = new JsonObject
        {
            ["model"] = Model,
            ["architecture"] = Architecture,
            ["parameters"] = Parameters,
            ["file_bytes"] = FileBytes,
            ["threads"] = Threads,
            ["repetitions"] = Repetitions,
            ["load_seconds"] = LoadSeconds,
            ["interleave_seconds"] = InterleaveSeconds,
            ["peak_rss_bytes"] = PeakRssBytes,
            ["kernels"] = Kernels,
            ["results"] = new JsonArray([.. Results.Select(r => (JsonNode)new JsonObject
            {
                ["test"] = r.Test.Kind,
                ["n_prompt"] = r.Test.Prompt,
                ["n_gen"] = r.Test.Gen,
                ["n_depth"] = r.Test.Depth,
                ["type_k"] = KvCacheFormat.Name(r.Test.Key),
                ["type_v"] = KvCacheFormat.Name(r.Test.Value),
                ["tokens_per_second"] = JsonSerializer.SerializeToNode(r.TokensPerSecond, JsonOutput.Options),
            })]),
        };
        // The one-test-of-each shape earlier versions printed, for scripts that read it.
        foreach (var (kind, key) in new[] { (BenchTest.PromptKind, "pp_tokens_per_second"), (BenchTest.GenerationKind, "tg_tokens_per_second") })
        {
            var ofKind = Results.Where(r => r.Test.Kind == kind).ToArray();
            if (ofKind.Length == 1) root[key] = JsonSerializer.SerializeToNode(ofKind[0].TokensPerSecond, JsonOutput.Options);
        }
        output.WriteLine(root.ToJsonString(JsonOutput.Options));
    }

    /// <summary>One row per test, its samples in one field separated by semicolons.</summary>
    public void WriteCsv(TextWriter output)
    {
        output.WriteLine("model,architecture,parameters,file_bytes,threads,repetitions,type_k,type_v,test,n_prompt,n_gen,n_depth,tps_mean,tps_sd,tps_samples");
        foreach (var r in Results)
        {
            var t = r.Test;
            var s = r.TokensPerSecond;
            string[] fields =
            [
                Model, Architecture, Number(Parameters), Number(FileBytes), Number(Threads), Number(Repetitions),
                KvCacheFormat.Name(t.Key), KvCacheFormat.Name(t.Value), t.Kind, Number(t.Prompt), Number(t.Gen), Number(t.Depth),
                Number(s.Mean), Number(s.Sd), string.Join(';', s.Samples.Select(x => Number(x))),
            ];
            output.WriteLine(string.Join(',', fields.Select(CsvField)));
        }
    }

    public void WriteMarkdown(TextWriter output)
    {
        output.WriteLine($"| {string.Join(" | ", TableColumns)} |");
        output.WriteLine("| --- | ---: | ---: | ---: | --- | --- | --- | ---: | ---: |");
        foreach (var row in Rows()) output.WriteLine($"| {string.Join(" | ", row)} |");
        output.WriteLine();
        output.WriteLine(Footer);
    }

    public void WriteTable(IAnsiConsole console)
    {
        var table = new Table().AddColumns(TableColumns);
        foreach (var row in Rows()) table.AddRow([.. row.Select(Markup.Escape)]);
        console.Write(table);
        console.WriteLine(Footer);
    }

    private IEnumerable<string[]> Rows()
    {
        string modelName = Path.GetFileName(Model);
        string size = string.Create(CultureInfo.InvariantCulture, $"{FileBytes / (1024.0 * 1024 * 1024):F2} GiB");
        string parameters = string.Create(CultureInfo.InvariantCulture, $"{Parameters / 1e9:F2} B");
        return Results.Select(r => new[]
        {
            modelName, size, parameters, Number(Threads), KvCacheFormat.Name(r.Test.Key), KvCacheFormat.Name(r.Test.Value),
            r.Test.Label, Number(r.Test.Depth), r.TokensPerSecond.ToString(),
        });
    }

    private string Footer => string.Create(CultureInfo.InvariantCulture,
        $"load {LoadSeconds:F2} s (+{InterleaveSeconds:F2} s background weight re-layout), peak resident memory {PeakRssBytes / (1024.0 * 1024):F0} MiB, " +
        $"{Repetitions} repetitions after one warm-up; kernels: {Kernels}");

    private static string Number(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    private static string Number(long x) => x.ToString(CultureInfo.InvariantCulture);

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.</summary>
    private static string CsvField(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : new StringBuilder("\"").Append(field.Replace("\"", "\"\"")).Append('"').ToString();
}
