using System.CommandLine;
using System.Text.Json;
using Retort.Engine;
using Retort.Engine.Conversion;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Tensors;
using Retort.Engine.Templates;
using Retort.Engine.Tokenization;
using Retort.Training.Data;
using Retort.Training.Export;
using Retort.Training.Lora;
using Retort.Training.Loop;
using Retort.Training.Model;
using Spectre.Console;

namespace Retort.Cli.Commands;

/// <summary>
/// <c>retort distill train --student S --data traces.jsonl --out DIR [--teacher T --loss kd …]</c>:
/// trains a student (SFT on traces, or logit distillation from a teacher run in process), with
/// optional LoRA, checkpoints and --resume; writes the trained student as an HF folder (OUT/model),
/// the adapters (OUT/adapter) with LoRA, and a GGUF with --gguf.
/// </summary>
internal static class DistillTrainCommand
{
    public static Command Create(CliIo io)
    {
        var student = new Option<string?>("--student") { Description = "the student: a Hugging Face folder (f32/bf16/f16 safetensors)" };
        var initConfig = new Option<string?>("--init-config") { Description = "train from scratch: a Hugging Face config.json for a fresh student (needs --tokenizer)" };
        var tokenizerDir = new Option<string?>("--tokenizer") { Description = "with --init-config: the HF folder whose tokenizer and chat template the student uses" };
        var teacher = new Option<string[]>("--teacher") { Description = "a teacher (.gguf or HF folder) for the teacher losses, same tokenizer as the student; repeat for several (their weighted mixture is the target)" };
        var teacherLogits = new Option<string?>("--teacher-logits") { Description = "precomputed teacher top-k log-probabilities for --data (from `retort distill teacher-logits`); a teacher after the --teacher ones" };
        var teacherWeights = new Option<string?>("--teacher-weights") { Description = "comma-separated weight per --teacher, e.g. 0.7,0.3 (default: equal)" };
        var data = new Option<string>("--data") { Description = "training data, JSONL: {prompt, completion}, {prompt, reasoning, answer}, {messages}, or {text}", Required = true };
        var evalData = new Option<string?>("--eval-data") { Description = "evaluation data in the same format" };
        var output = new Option<string>("--out") { Description = "output folder: checkpoints, log.jsonl, loss.png, model/ (and adapter/ with LoRA)", Required = true };
        var loss = new Option<string>("--loss") { Description = "sft, kd, reverse_kl, jsd or grad_match (λ·MSE of the CE gradients + (1−λ)·KL)", DefaultValueFactory = _ => "sft" };
        loss.AcceptOnlyFromAmong("sft", "kd", "reverse_kl", "jsd", "grad_match");
        var schedule = new Option<string>("--temperature-schedule") { Description = "constant, linear (to --temperature-end over the run) or adaptive (per position, up to --temperature-end where the teacher is confident)", DefaultValueFactory = _ => "constant" };
        schedule.AcceptOnlyFromAmong("constant", "linear", "adaptive");
        var temperatureEnd = new Option<double?>("--temperature-end") { Description = "the last step's temperature (linear) or a confident teacher's (adaptive)" };
        var gmStart = new Option<double>("--gm-lambda-start") { Description = "grad_match: λ at the first step", DefaultValueFactory = _ => 0.8 };
        var gmEnd = new Option<double>("--gm-lambda-end") { Description = "grad_match: λ at the last step", DefaultValueFactory = _ => 0.3 };
        var temperature = new Option<double>("--temperature") { Description = "distillation temperature T (the divergence is scaled by T²)", DefaultValueFactory = _ => 2.0 };
        var alpha = new Option<double>("--alpha") { Description = "weight of cross-entropy in teacher losses (1 - alpha on the divergence)", DefaultValueFactory = _ => 0.5 };
        var beta = new Option<double>("--jsd-beta") { Description = "beta of the generalized JSD", DefaultValueFactory = _ => 0.5 };
        var lr = new Option<double>("--lr") { Description = "peak learning rate", DefaultValueFactory = _ => 3e-5 };
        var minLr = new Option<double>("--min-lr") { Description = "learning rate at the end of the cosine decay", DefaultValueFactory = _ => 1e-6 };
        var warmup = new Option<int?>("--warmup") { Description = "warm-up steps (default: 3% of the run)" };
        var steps = new Option<int?>("--steps") { Description = "optimizer steps (default: from --epochs)" };
        var epochs = new Option<double>("--epochs") { Description = "passes over the data when --steps is not given", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch") { Description = "rows per micro-batch", DefaultValueFactory = _ => 4 };
        var seqLen = new Option<int>("--seq-len") { Description = "tokens per row (longer documents are cut)", DefaultValueFactory = _ => 512 };
        var accum = new Option<int>("--grad-accum") { Description = "micro-batches per optimizer step", DefaultValueFactory = _ => 1 };
        var noPack = new Option<bool>("--no-pack") { Description = "one document per row instead of packing several per row" };
        var clip = new Option<double>("--clip") { Description = "clip the global gradient norm to this (0: off)", DefaultValueFactory = _ => 1.0 };
        var decay = new Option<double>("--weight-decay") { Description = "AdamW decoupled weight decay (weight matrices only)", DefaultValueFactory = _ => 0.01 };
        var evalEvery = new Option<int>("--eval-every") { Description = "evaluate every N steps (0: at the end)", DefaultValueFactory = _ => 0 };
        var saveEvery = new Option<int>("--save-every") { Description = "checkpoint every N steps (0: at the end)", DefaultValueFactory = _ => 0 };
        var resume = new Option<bool>("--resume") { Description = "continue from OUT's latest checkpoint (same options)" };
        var loraRank = new Option<int>("--lora-rank") { Description = "train LoRA adapters of this rank instead of every weight (0: off)", DefaultValueFactory = _ => 0 };
        var loraAlpha = new Option<double?>("--lora-alpha") { Description = "LoRA alpha (default: 2 × rank)" };
        var loraDropout = new Option<double>("--lora-dropout") { Description = "dropout on the adapters' input", DefaultValueFactory = _ => 0 };
        var loraTargets = new Option<string>("--lora-targets") { Description = "comma-separated modules: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", DefaultValueFactory = _ => "q_proj,v_proj" };
        var featureLayers = new Option<string?>("--feature-layers") { Description = "feature distillation: STUDENT:TEACHER decoder-layer pairs, e.g. 0:1,1:3 (hidden states of the first --teacher)" };
        var featureLoss = new Option<string>("--feature-loss") { Description = "mse or cosine between the projected student state and the teacher's", DefaultValueFactory = _ => "mse" };
        featureLoss.AcceptOnlyFromAmong("mse", "cosine");
        var featureWeight = new Option<double>("--feature-weight") { Description = "weight of the feature loss (added to the logit loss)", DefaultValueFactory = _ => 0.1 };
        var qat = new Option<string?>("--qat") { Description = "quantization-aware training: fake-quantize the layers' weights (q8_0 or q4_0) in the forward pass, straight-through gradients" };
        qat.AcceptOnlyFromAmong("q8_0", "q4_0");
        var seed = new Option<int>("--seed") { Description = "seed of the data order, dropout and fresh weights", DefaultValueFactory = _ => 42 };
        var skipBad = new Option<bool>("--skip-bad-lines") { Description = "report malformed JSONL lines and go on (default: stop at the first)" };
        var gguf = new Option<string?>("--gguf") { Description = "also export OUT/model.gguf of this type (f32, f16, bf16, q8_0, q4_0, q4_k_m)" };
        var threads = ThreadsOption.Create();

        var command = new Command("train", "Train a student: SFT on traces or distillation from a teacher, full or LoRA")
        {
            student, initConfig, tokenizerDir, teacher, teacherLogits, teacherWeights, schedule, temperatureEnd, gmStart, gmEnd, data, evalData, output, loss, temperature, alpha, beta, lr, minLr, warmup,
            steps, epochs, batch, seqLen, accum, noPack, clip, decay, evalEvery, saveEvery, resume, loraRank, loraAlpha,
            loraDropout, loraTargets, featureLayers, featureLoss, featureWeight, qat, seed, skipBad, gguf, threads,
        };
        command.SetAction(result =>
        {
            using var interruption = new Interruption(io);
            string kept = $"the complete checkpoints in {Path.Combine(result.GetValue(output)!, "checkpoints")} are kept: run again with --resume to continue";
            return interruption.Run(io, "distill train", cancel =>
            {
                var options = new TrainingOptions
                {
                    Loss = result.GetValue(loss) switch
                    {
                        "kd" => LossKind.Kd,
                        "reverse_kl" => LossKind.ReverseKl,
                        "jsd" => LossKind.Jsd,
                        "grad_match" => LossKind.GradientMatch,
                        _ => LossKind.Sft,
                    },
                    Temperature = result.GetValue(temperature),
                    TemperatureSchedule = Enum.Parse<TemperatureSchedule>(result.GetValue(schedule)!, ignoreCase: true),
                    TemperatureEnd = result.GetValue(temperatureEnd),
                    TeacherWeights = ParseWeights(result.GetValue(teacherWeights)),
                    GradientMatchLambdaStart = result.GetValue(gmStart),
                    GradientMatchLambdaEnd = result.GetValue(gmEnd),
                    Alpha = result.GetValue(alpha),
                    JsdBeta = result.GetValue(beta),
                    LearningRate = result.GetValue(lr),
                    MinLearningRate = result.GetValue(minLr),
                    WarmupSteps = result.GetValue(warmup),
                    Steps = result.GetValue(steps),
                    Epochs = result.GetValue(epochs),
                    BatchRows = result.GetValue(batch),
                    SequenceLength = result.GetValue(seqLen),
                    GradientAccumulation = result.GetValue(accum),
                    Pack = !result.GetValue(noPack),
                    MaxGradientNorm = result.GetValue(clip),
                    WeightDecay = result.GetValue(decay),
                    EvalEvery = result.GetValue(evalEvery),
                    SaveEvery = result.GetValue(saveEvery),
                    Seed = result.GetValue(seed),
                    FeatureLayers = result.GetValue(featureLayers),
                    FeatureLoss = result.GetValue(featureLoss) == "cosine" ? FeatureLoss.Cosine : FeatureLoss.Mse,
                    FeatureWeight = result.GetValue(featureWeight),
                    Qat = result.GetValue(qat) switch { "q8_0" => GgmlType.Q8_0, "q4_0" => GgmlType.Q4_0, _ => null },
                };
                options.Validate();
                var teacherPaths = result.GetValue(teacher) ?? [];
                string? logitsPath = result.GetValue(teacherLogits);
                int teacherCount = teacherPaths.Length + (logitsPath != null ? 1 : 0);
                if (options.Loss != LossKind.Sft && teacherCount == 0)
                    throw new RetortException($"--loss {result.GetValue(loss)} needs --teacher (or --teacher-logits)");
                if (options.FeatureLayers != null && teacherPaths.Length == 0)
                    throw new RetortException("--feature-layers needs --teacher (hidden states come from the first teacher)");
                if (options.TeacherWeights != null && options.TeacherWeights.Length != teacherCount)
                    throw new RetortException($"--teacher-weights has {options.TeacherWeights.Length} values for {teacherCount} teachers; give one weight per --teacher (and --teacher-logits, last)");
                if (logitsPath != null && result.GetValue(evalData) != null && options.Loss != LossKind.Sft)
                    throw new RetortException("--eval-data cannot be scored with --teacher-logits: the file covers the training data only");
                string? studentPath = result.GetValue(student), configPath = result.GetValue(initConfig);
                if ((studentPath == null) == (configPath == null))
                    throw new RetortException("give exactly one of --student HF_DIR or --init-config config.json");
                string? sourceFolder = studentPath ?? result.GetValue(tokenizerDir)
                    ?? throw new RetortException("--init-config needs --tokenizer HF_DIR (the tokenizer and chat template of the new student)");
                if (!Directory.Exists(sourceFolder)) throw new RetortException($"folder not found: '{sourceFolder}' (expected a Hugging Face model folder)");
                int threadCount = ThreadsOption.Read(result, threads);
                string outDir = result.GetValue(output)!;
                var policy = result.GetValue(skipBad) ? MalformedLinePolicy.Skip : MalformedLinePolicy.Stop;

                var (tokenizer, template) = TokenizerAndTemplate(sourceFolder);
                using var model = configPath != null ? FreshStudent(configPath, options.Seed, threadCount) : StudentModel.Load(studentPath!, threadCount);
                model.OutputVocabulary = Math.Min(tokenizer.VocabSize, model.Config.VocabSize);
                int rank = result.GetValue(loraRank);
                if (rank < 0) throw new RetortException($"--lora-rank must not be negative, found {rank}");
                if (rank > 0)
                    model.AttachLora(new LoraOptions
                    {
                        Rank = rank,
                        Alpha = result.GetValue(loraAlpha) ?? 2.0 * rank,
                        Dropout = result.GetValue(loraDropout),
                        Targets = result.GetValue(loraTargets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                    }, options.Seed);

                var dataset = new TraceDataset(tokenizer, template);
                var train = dataset.ReadFile(result.GetValue(data)!, policy);
                var eval = result.GetValue(evalData) is { } evalPath ? dataset.ReadFile(evalPath, policy) : null;
                foreach (string skipped in dataset.Skipped) io.Error.WriteLine($"warning: skipped {skipped}");

                var teacherModels = new List<LoadedModel>();
                try
                {
                    var teachers = new List<ITeacher>();
                    if (options.Loss != LossKind.Sft || options.FeatureLayers != null)
                        foreach (string path in teacherPaths)
                        {
                            teacherModels.Add(LoadedModel.Load(path, threads: threadCount));
                            teachers.Add(new OnlineTeacher(teacherModels[^1], tokenizer));
                        }
                    if (options.Loss != LossKind.Sft && logitsPath != null) teachers.Add(TeacherLogitsFile.Read(logitsPath, train, tokenizer));
                    return Train(io, result, model, options, train, eval, teachers, outDir, rank, studentPath, sourceFolder, loss, resume, gguf, cancel);
                }
                finally
                {
                    foreach (var m in teacherModels) m.Dispose();
                }
            }, kept);
        });
        return command;
    }

    private static int Train(CliIo io, ParseResult result, StudentModel model, TrainingOptions options, IReadOnlyList<TrainingExample> train,
        IReadOnlyList<TrainingExample>? eval, IReadOnlyList<ITeacher> teachers, string outDir, int rank, string? studentPath, string sourceFolder,
        Option<string> loss, Option<bool> resume, Option<string?> gguf, CancellationToken cancel)
    {
        var trainer = new DistillationTrainer(model, options, train, eval, teachers, outDir);
        long parameters = model.TrainableParameters.Sum(p => (long)p.Length);
        io.Out.WriteLine($"training {parameters:N0} parameters{(rank > 0 ? $" (LoRA r={rank})" : "")} on {train.Count} examples, " +
                         $"{trainer.TotalSteps()} steps, loss {result.GetValue(loss)}, {model.ThreadCount} threads");

        var outcome = RunWithProgress(io, trainer, result.GetValue(resume), cancel);

        string modelDir = Path.Combine(outDir, "model");
        if (model.Lora != null)
        {
            PeftAdapter.Save(model, Path.Combine(outDir, "adapter"), studentPath, cancel);
            model.MergeLora();
        }
        HfFolderExport.Write(model, modelDir, sourceFolder, cancellationToken: cancel);
        if (result.GetValue(gguf) is { } type) HfToGguf.Convert(modelDir, Path.Combine(outDir, "model.gguf"), type, cancel);
        string evalText = outcome.EvalLosses.Count > 0 ? $", eval loss {outcome.EvalLosses[^1].Loss:F4}" : "";
        io.Out.WriteLine($"done: {outcome.Steps} steps, final loss {outcome.Losses[^1]:F4}{evalText}, {outcome.TokensPerSecond:F0} tokens/s; " +
                         $"model in {modelDir}{(rank > 0 ? $", adapter in {Path.Combine(outDir, "adapter")}" : "")}");
        return 0;
    }

    private static double[]? ParseWeights(string? text)
    {
        if (text == null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var weights = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out weights[i]))
                throw new RetortException($"--teacher-weights: '{parts[i]}' (item {i + 1}) is not a number; expected e.g. 0.7,0.3");
        return weights;
    }

    private static TrainingResult RunWithProgress(CliIo io, DistillationTrainer trainer, bool resume, CancellationToken cancel)
    {
        if (!io.IsConsole)
        {
            // Redirected output gets one plain line per step: easy to read in logs and tests.
            return trainer.Run(resume, new LineProgress(p => io.Out.WriteLine(
                $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} lr {p.LearningRate:E2} |g| {p.GradientNorm:F3} " +
                $"{p.TokensPerSecond:F0} tok/s eta {p.Remaining:hh\\:mm\\:ss}{(p.EvalLoss is { } e ? $" eval {e:F4}" : "")}")), cancel);
        }
        TrainingResult? outcome = null;
        io.CreateConsole().Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: trainer.TotalSteps());
                outcome = trainer.Run(resume, new LineProgress(p =>
                {
                    task.MaxValue = p.TotalSteps;
                    task.Value = p.Step;
                    task.Description = $"step {p.Step} loss {p.Loss:F4}{(p.EvalLoss is { } e ? $" eval {e:F4}" : "")} {p.TokensPerSecond:F0} tok/s";
                }), cancel);
            });
        return outcome!;
    }

    private static StudentModel FreshStudent(string configPath, int seed, int threads)
    {
        if (!File.Exists(configPath)) throw new RetortException($"config not found: '{configPath}'");
        JsonElement json;
        try
        {
            json = JsonDocument.Parse(File.ReadAllText(configPath)).RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new RetortException($"{configPath}: not valid JSON ({e.Message})");
        }
        var config = ModelConfig.FromHfConfig(json, configPath);
        bool tied = json.TryGetProperty("tie_word_embeddings", out var t) && t.ValueKind == JsonValueKind.True;
        double std = json.TryGetProperty("initializer_range", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : 0.02;
        return StudentModel.Initialize(config, tied, seed, std, threads);
    }

    /// <summary>The tokenizer and chat template of an HF folder (chat_template.jinja wins over tokenizer_config.json's).</summary>
    internal static (Tokenizer, ChatTemplate?) TokenizerAndTemplate(string dir)
    {
        var tokenizer = Tokenizer.FromHfFolder(dir);
        string jinja = Path.Combine(dir, "chat_template.jinja");
        if (File.Exists(jinja)) return (tokenizer, new ChatTemplate(File.ReadAllText(jinja)));
        string config = Path.Combine(dir, "tokenizer_config.json");
        if (File.Exists(config))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(config));
            if (doc.RootElement.TryGetProperty("chat_template", out var t) && t.ValueKind == JsonValueKind.String)
                return (tokenizer, new ChatTemplate(t.GetString()!));
        }
        return (tokenizer, null);
    }

    private sealed class LineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
