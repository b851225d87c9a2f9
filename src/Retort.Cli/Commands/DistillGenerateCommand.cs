using System.CommandLine;
using Retort.Distillation.Traces;
using Spectre.Console;

namespace Retort.Cli.Commands;

/// <summary>
/// <c>retort distill generate --teacher URL|MODEL --prompts prompts.jsonl --out traces.jsonl</c>: collects
/// reasoning traces from a teacher, resumably (samples already in the output are skipped).
/// </summary>
internal static class DistillGenerateCommand
{
    public static Command Create(CliIo io)
    {
        var teacher = new Option<string>("--teacher")
        {
            Description = "an OpenAI-compatible server (http://host:port/v1) or a local model (.gguf, Hugging Face folder, store name)",
            Required = true,
        };
        var teacherModel = new Option<string?>("--teacher-model") { Description = "the model id to request from the server (default: the first it lists)" };
        var prompts = new Option<string>("--prompts") { Description = "JSONL with \"prompt\" (or \"question\"/\"problem\"), optional \"id\" and \"answer\"", Required = true };
        var output = new Option<string>("--out") { Description = "traces JSONL, appended to (an interrupted run resumes)", Required = true };
        var samples = new Option<int>("--samples-per-prompt") { Description = "samples per prompt", DefaultValueFactory = _ => 1 };
        var concurrency = new Option<int>("--concurrency") { Description = "requests in flight at once", DefaultValueFactory = _ => 1 };
        var modelOptions = new ChatModelOptions();
        var command = new Command("generate", "Collect chain-of-thought traces from a teacher model (resumable, retried)")
        {
            teacher, teacherModel, prompts, output, samples, concurrency,
        };
        modelOptions.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            var items = PromptFile.Read(result.GetValue(prompts)!);
            var options = new TraceGenerationOptions
            {
                SamplesPerPrompt = result.GetValue(samples),
                Concurrency = result.GetValue(concurrency),
                Sampling = modelOptions.Sampling(result),
            };
            using var cancel = new Interruption(io);
            var (model, handle) = await modelOptions.OpenAsync(result, result.GetValue(teacher)!, result.GetValue(teacherModel),
                options.Concurrency, cancel.Token);
            using var _h = handle;
            string path = result.GetValue(output)!;
            TraceGenerationSummary summary;
            try
            {
                if (io.IsConsole)
                {
                    summary = await io.CreateConsole().Progress().StartAsync(async ctx =>
                    {
                        var bar = ctx.AddTask($"traces from {Markup.Escape(model.Name)}", maxValue: items.Count * (double)options.SamplesPerPrompt);
                        int start = -1;
                        var progress = new Progress<int>(n => bar.Value = (start < 0 ? 0 : start) + n);
                        return await TraceGenerator.RunAsync(model, items, path, options with { Progress = progress }, cancel.Token);
                    });
                }
                else summary = await TraceGenerator.RunAsync(model, items, path, options, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                io.Error.WriteLine($"distill generate: interrupted; the traces written so far are in {path}: run the same command again to resume");
                return cancel.ExitCode;
            }
            if (summary.RepairedBytes > 0)
                io.Error.WriteLine($"note: cut a torn last line ({summary.RepairedBytes} bytes) left by an interrupted run from {path}");
            foreach (string rejected in summary.Rejected.Take(10)) io.Error.WriteLine($"warning: refused by the server: {rejected}");
            if (summary.Rejected.Count > 10) io.Error.WriteLine($"warning: … and {summary.Rejected.Count - 10} more refused");
            io.Out.WriteLine($"wrote {summary.Written} traces from {model.Name} to {path} " +
                             $"({summary.AlreadyDone} of {summary.Requested} were already there, {summary.Rejected.Count} refused)");
            return 0;
        });
        return command;
    }
}
