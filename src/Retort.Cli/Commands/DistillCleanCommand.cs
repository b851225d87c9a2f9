using System.CommandLine;
using Retort.Distillation.Cleaning;
using Retort.Distillation.Evaluation;
using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Engine.Tokenization;
using Retort.Hub.Store;
using Spectre.Console;

namespace Retort.Cli.Commands;

/// <summary>
/// <c>retort distill clean --in traces.jsonl --out clean.jsonl --report report.json</c>: duplicate, length,
/// format and answer checks; a table of what was dropped and why.
/// </summary>
internal static class DistillCleanCommand
{
    public static Command Create(CliIo io)
    {
        var defaults = new CleaningOptions();
        var input = new Option<string>("--in") { Description = "traces JSONL (from distill generate, or {\"prompt\",\"reasoning\",\"answer\"} lines)", Required = true };
        var output = new Option<string>("--out") { Description = "the kept traces, lines unchanged (written atomically)", Required = true };
        var min = new Option<int>("--min-tokens") { Description = "drop shorter completions", DefaultValueFactory = _ => defaults.MinTokens };
        var max = new Option<int>("--max-tokens") { Description = "drop longer completions", DefaultValueFactory = _ => defaults.MaxTokens };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = "count tokens with this model's tokenizer (.gguf, folder with tokenizer.json, store name); default: the traces' usage.completion_tokens",
        };
        var references = new Option<string?>("--references") { Description = "reference answers (tasks.jsonl, GSM8K, MATH-500): keep only traces whose final answer matches" };
        var nearDup = new Option<double>("--near-dup-threshold")
        {
            Description = "drop traces this similar to a kept one (estimated Jaccard of character 5-grams; above 1: off)",
            DefaultValueFactory = _ => defaults.NearDuplicateThreshold,
        };
        var report = new Option<string?>("--report") { Description = "write the counts as JSON here" };
        var command = new Command("clean", "Filter traces: duplicates, near-duplicates, token length, format, answer verification")
        {
            input, output, min, max, tokenizer, references, nearDup, report,
        };
        command.SetAction(result =>
        {
            Tokenizer? tok = result.GetValue(tokenizer) is { } t ? LoadTokenizer(t) : null;
            var options = new CleaningOptions
            {
                MinTokens = result.GetValue(min),
                MaxTokens = result.GetValue(max),
                NearDuplicateThreshold = result.GetValue(nearDup),
                CountTokens = tok == null ? null : text => tok.Encode(text).Length,
                SpecialTokens = tok?.AddedTokens.Where(a => a.Special).Select(a => a.Content).ToList() ?? [],
                References = result.GetValue(references) is { } r ? EvalDataset.Load(r) : null,
            };
            string outPath = result.GetValue(output)!;
            var summary = TraceCleaner.Clean(result.GetValue(input)!, outPath, options);

            var table = new Table().AddColumns("", "traces");
            table.Columns[1].RightAligned();
            table.AddRow("input", summary.Input.ToString());
            foreach (var reason in Enum.GetValues<DropReason>())
                if (summary.Dropped.GetValueOrDefault(reason) is > 0 and var n)
                    table.AddRow($"dropped: {CleaningReport.Name(reason)}", n.ToString());
            table.AddRow("[bold]kept[/]", $"[bold]{summary.Kept}[/]");
            io.CreateConsole().Write(table);
            if (result.GetValue(report) is { } reportPath)
                summary.WriteJson(reportPath);
            io.Out.WriteLine($"wrote {summary.Kept} of {summary.Input} traces to {outPath}");
            return 0;
        });
        return command;
    }

    private static Tokenizer LoadTokenizer(string argument)
    {
        string path = ModelResolver.Resolve(argument, LocalStore.Default());
        if (Directory.Exists(path) && File.Exists(Path.Combine(path, "tokenizer.json")))
            return Tokenizer.FromHfFolder(path);
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new RetortException($"--tokenizer: not found: '{argument}' (expected a .gguf file, a folder with tokenizer.json, or a store name)");
        using var model = LoadedModel.Load(path);
        return model.Tokenizer;
    }
}
