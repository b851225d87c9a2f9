using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Retort.Distillation.Charts;
using Retort.Distillation.IO;
using Retort.Engine.IO;

namespace Retort.Distillation.Evaluation;

/// <summary>Writes evaluation results as JSON (with every sample), a Markdown table, and a PNG bar chart of accuracy.</summary>
public static class EvalReport
{
    public static JsonObject ToJson(IReadOnlyList<ModelScore> scores, string dataPath, EvalOptions options)
    {
        var models = new JsonArray();
        foreach (var s in scores)
        {
            var items = new JsonArray();
            foreach (var item in s.Items)
                items.Add(new JsonObject
                {
                    ["id"] = item.Id,
                    ["reference"] = item.Reference,
                    ["group"] = item.Group,
                    ["pass_at_1"] = item.PassAt1,
                    ["samples"] = new JsonArray(item.Samples.Select(x => (JsonNode)new JsonObject
                    {
                        ["extracted"] = x.Extracted,
                        ["correct"] = x.Correct,
                        ["output_tokens"] = x.OutputTokens,
                        ["finish_reason"] = x.FinishReason,
                        ["unchecked"] = x.Unchecked,
                    }).ToArray()),
                });
            models.Add(new JsonObject
            {
                ["model"] = s.Model,
                ["items"] = s.Items.Count,
                ["samples_per_item"] = s.SamplesPerItem,
                ["accuracy"] = s.Accuracy,
                ["mean_output_tokens"] = s.MeanOutputTokens,
                ["tokens_per_second"] = s.TokensPerSecond,
                ["unchecked_samples"] = s.UncheckedSamples,
                ["accuracy_by_group"] = new JsonObject(s.AccuracyByGroup.Select(g => KeyValuePair.Create(g.Group, (JsonNode?)g.Accuracy))),
                ["results"] = items,
            });
        }
        return new JsonObject
        {
            ["data"] = dataPath,
            ["samples"] = options.Samples,
            ["temperature"] = options.Sampling.Temperature,
            ["top_p"] = options.Sampling.TopP,
            ["max_tokens"] = options.Sampling.MaxTokens,
            ["seed"] = options.Sampling.Seed,
            ["models"] = models,
        };
    }

    public static string ToMarkdown(IReadOnlyList<ModelScore> scores, string dataPath, EvalOptions options)
    {
        var md = new StringBuilder();
        string Inv(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
        md.Append(Inv($"Data: `{Path.GetFileName(dataPath)}`, {options.Samples} sample(s) per problem, temperature {options.Sampling.Temperature}, top-p {options.Sampling.TopP}, at most {options.Sampling.MaxTokens} tokens.\n\n"));
        md.Append("| model | problems | accuracy (mean pass@1) | mean output tokens | tokens/s |\n");
        md.Append("| --- | ---: | ---: | ---: | ---: |\n");
        foreach (var s in scores)
            md.Append(Inv($"| {s.Model.Replace("|", "\\|")} | {s.Items.Count} | {s.Accuracy * 100:0.0}% | {s.MeanOutputTokens:0.0} | {s.TokensPerSecond:0.0} |\n"));
        foreach (var s in scores.Where(s => s.UncheckedSamples > 0))
            md.Append(Inv($"\n**{s.Model.Replace("|", "\\|")}: {s.UncheckedSamples} code answer(s) unchecked** (no Python interpreter to run their tests): counted as wrong.\n"));
        var groups = scores.SelectMany(s => s.AccuracyByGroup.Select(g => (g.Group, g.Items))).DistinctBy(g => g.Group).ToList();
        if (groups.Count == 0) return md.ToString();
        md.Append("\nAccuracy per group (problems in brackets):\n\n");
        md.Append("| model | " + string.Join(" | ", groups.Select(g => Inv($"{g.Group.Replace("|", "\\|")} ({g.Items})"))) + " |\n");
        md.Append("| --- |" + string.Concat(groups.Select(_ => " ---: |")) + "\n");
        foreach (var s in scores)
        {
            var byGroup = s.AccuracyByGroup.ToDictionary(g => g.Group, g => g.Accuracy);
            md.Append(Inv($"| {s.Model.Replace("|", "\\|")} |"));
            foreach (var g in groups) md.Append(byGroup.TryGetValue(g.Group, out double a) ? Inv($" {a * 100:0.0}% |") : " – |");
            md.Append('\n');
        }
        return md.ToString();
    }

    public static void WriteJson(string path, IReadOnlyList<ModelScore> scores, string dataPath, EvalOptions options) =>
        AtomicFile.WriteText(path, ToJson(scores, dataPath, options).ToJsonString(JsonlFile.IndentedOptions) + "\n");

    public static void WriteMarkdown(string path, IReadOnlyList<ModelScore> scores, string dataPath, EvalOptions options) =>
        AtomicFile.WriteText(path, ToMarkdown(scores, dataPath, options));

    /// <summary>A PNG bar chart: one bar per model, its height the accuracy, labelled with the name and percentage.</summary>
    public static void WriteChart(string path, IReadOnlyList<ModelScore> scores) =>
        AtomicFile.Write(path, stream => BarChart.Render(scores.Select(s => (s.Model, s.Accuracy)).ToList(), "ACCURACY (MEAN PASS@1)", stream));
}
