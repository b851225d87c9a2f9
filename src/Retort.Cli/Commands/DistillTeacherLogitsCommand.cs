using System.CommandLine;
using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Training.Data;
using Retort.Training.Loop;

namespace Retort.Cli.Commands;

/// <summary>
/// <c>retort distill teacher-logits --teacher T --data traces.jsonl --out logits.bin --top-k 20</c>:
/// runs the teacher once over the data and stores its top-k log-probabilities per position, so
/// <c>distill train --teacher-logits</c> needs no teacher in memory.
/// </summary>
internal static class DistillTeacherLogitsCommand
{
    public static Command Create(CliIo io)
    {
        var teacher = new Option<string>("--teacher") { Description = "the teacher (.gguf or HF folder)", Required = true };
        var data = new Option<string>("--data") { Description = "the training data (JSONL, as for distill train)", Required = true };
        var output = new Option<string>("--out") { Description = "the file to write (written atomically)", Required = true };
        var topK = new Option<int>("--top-k") { Description = "log-probabilities kept per position", DefaultValueFactory = _ => 20 };
        var tokenizerDir = new Option<string?>("--tokenizer") { Description = "HF folder whose tokenizer and chat template render the data: the student's (default: the teacher's)" };
        var skipBad = new Option<bool>("--skip-bad-lines") { Description = "report malformed JSONL lines and go on (must match the training run)" };
        var threads = ThreadsOption.Create();
        var command = new Command("teacher-logits", "Precompute a teacher's top-k log-probabilities over training data for distill train --teacher-logits")
        {
            teacher, data, output, topK, tokenizerDir, skipBad, threads,
        };
        command.SetAction(result =>
        {
            using var model = LoadedModel.Load(result.GetValue(teacher)!, threads: ThreadsOption.Read(result, threads));
            var (tokenizer, template) = result.GetValue(tokenizerDir) is { } dir
                ? Directory.Exists(dir) ? DistillTrainCommand.TokenizerAndTemplate(dir) : throw new RetortException($"folder not found: '{dir}' (expected a Hugging Face model folder)")
                : (model.Tokenizer, model.ChatTemplate);
            var online = new OnlineTeacher(model, tokenizer);
            var dataset = new TraceDataset(tokenizer, template);
            var examples = dataset.ReadFile(result.GetValue(data)!, result.GetValue(skipBad) ? MalformedLinePolicy.Skip : MalformedLinePolicy.Stop);
            foreach (string skipped in dataset.Skipped) io.Error.WriteLine($"warning: skipped {skipped}");
            int vocabulary = Math.Min(tokenizer.VocabSize, model.Config.VocabSize);
            int k = result.GetValue(topK);
            string path = result.GetValue(output)!;
            TeacherLogitsFile.Write(path, online, examples, tokenizer, vocabulary, k);
            long positions = examples.Sum(e => (long)e.Length);
            io.Out.WriteLine($"wrote {path}: {examples.Count} examples, {positions} positions, top-{k} of {vocabulary} tokens ({new FileInfo(path).Length:N0} bytes)");
            return 0;
        });
        return command;
    }
}
