using System.CommandLine;
using System.Globalization;
using Retort.Distillation.Evaluation;
using Retort.Distillation.Models;
using Spectre.Console;

namespace Retort.Cli.Commands;

/// <summary>
/// <c>retort eval MODEL… --data set.jsonl</c>: accuracy (mean pass@1 over K samples), output length and
/// speed of one or more models on a GSM8K-, MATH-500- or tasks-style file; a table, JSON, Markdown and a PNG chart.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(CliIo io)
    {
        var models = new Argument<string[]>("MODEL")
        {
            Description = "local models (.gguf, Hugging Face folder, store name) or OpenAI-compatible servers (http://host:port/v1)",
            Arity = ArgumentArity.OneOrMore,
        };
        var data = new Option<string>("--data") { Description = "JSONL problems: GSM8K, MATH-500 or tasks.jsonl", Required = true };
        var samples = new Option<int>("--samples") { Description = "samples per problem (accuracy is their mean pass@1)", DefaultValueFactory = _ => 1 };
        var limit = new Option<int?>("--limit") { Description = "only the first N problems" };
        var concurrency = new Option<int>("--concurrency") { Description = "requests in flight at once", DefaultValueFactory = _ => 1 };
        var remoteModel = new Option<string?>("--model-id") { Description = "the model id to request from a server (default: the first it lists)" };
        var json = new Option<string?>("--json") { Description = "write the results, every sample included, as JSON here" };
        var markdown = new Option<string?>("--markdown") { Description = "write the table as Markdown here" };
        var chart = new Option<string?>("--chart") { Description = "write a PNG bar chart of accuracy here" };
        var modelOptions = new ChatModelOptions(defaultSeed: 0);
        var command = new Command("eval", "Evaluate models on problems with reference answers: accuracy, output length, tokens/s")
        {
            models, data, samples, limit, concurrency, remoteModel, json, markdown, chart,
        };
        modelOptions.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            string dataPath = result.GetValue(data)!;
            int? n = result.GetValue(limit);
            if (n is < 1) throw new Engine.RetortException($"--limit must be at least 1, found {n}");
            var items = EvalDataset.Load(dataPath, n);
            var options = new EvalOptions
            {
                Samples = result.GetValue(samples),
                Sampling = modelOptions.Sampling(result),
                Concurrency = result.GetValue(concurrency),
            };
            using var interruption = new Interruption(io);
            var scores = new List<ModelScore>();
            int stopped = await interruption.RunAsync(io, "eval", async cancel =>
            {
                foreach (string argument in result.GetValue(models)!)
                {
                    var (model, handle) = await modelOptions.OpenAsync(result, argument, result.GetValue(remoteModel), options.Concurrency, cancel);
                    using (handle)
                        scores.Add(await Evaluate(io, model, items, options, cancel));
                }
                return 0;
            });
            if (stopped != 0) return stopped;

            var table = new Table().AddColumns("model", "problems", "accuracy", "mean tokens", "tokens/s")
                .Caption($"accuracy: mean pass@1 over {options.Samples} sample(s); mean tokens: output length");
            for (int c = 1; c < 5; c++) table.Columns[c].RightAligned();
            foreach (var s in scores)
                table.AddRow(Markup.Escape(s.Model), s.Items.Count.ToString(CultureInfo.InvariantCulture),
                    (s.Accuracy * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%",
                    s.MeanOutputTokens.ToString("0.0", CultureInfo.InvariantCulture), s.TokensPerSecond.ToString("0.0", CultureInfo.InvariantCulture));
            var console = io.CreateConsole();
            console.Write(table);
            var groups = scores.SelectMany(s => s.AccuracyByGroup.Select(g => g.Group)).Distinct().ToList();
            if (groups.Count > 0)
            {
                var byGroup = new Table().AddColumns(["model", .. groups.Select(Markup.Escape)]).Caption("accuracy per group (kind or subject)");
                for (int c = 1; c <= groups.Count; c++) byGroup.Columns[c].RightAligned();
                foreach (var s in scores)
                {
                    var accuracy = s.AccuracyByGroup.ToDictionary(g => g.Group, g => g.Accuracy);
                    byGroup.AddRow([Markup.Escape(s.Model), .. groups.Select(g => accuracy.TryGetValue(g, out double a)
                        ? (a * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "–")]);
                }
                console.Write(byGroup);
            }

            foreach (var s in scores.Where(s => s.UncheckedSamples > 0))
                io.Error.WriteLine($"warning: {s.Model}: {s.UncheckedSamples} code answer(s) unchecked (no python3 to run their tests); counted as wrong");

            if (result.GetValue(json) is { } j) EvalReport.WriteJson(j, scores, dataPath, options);
            if (result.GetValue(markdown) is { } m) EvalReport.WriteMarkdown(m, scores, dataPath, options);
            if (result.GetValue(chart) is { } c2) EvalReport.WriteChart(c2, scores);
            return 0;
        });
        return command;
    }

    private static async Task<ModelScore> Evaluate(CliIo io, IChatModel model, IReadOnlyList<EvalItem> items, EvalOptions options, CancellationToken ct)
    {
        if (!io.IsConsole) return await Evaluator.EvaluateAsync(model, items, options, ct);
        return await io.CreateConsole().Progress().StartAsync(async ctx =>
        {
            var bar = ctx.AddTask(Markup.Escape(model.Name), maxValue: items.Count * (double)options.Samples);
            return await Evaluator.EvaluateAsync(model, items, options with { Progress = new Progress<int>(k => bar.Value = k) }, ct);
        });
    }
}
