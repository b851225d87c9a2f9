using System.Diagnostics;
using System.Text.Json;
using Retort.Engine;
using Retort.Engine.IO;
using Retort.Training.Data;
using Retort.Training.Model;
using Retort.Training.Optim;

namespace Retort.Training.Loop;

/// <summary>
/// The training loop: micro-batches from the sampler (gradient accumulation), the loss against
/// the labels and the teacher, backward, clipping by global norm, AdamW with linear warm-up and
/// cosine decay, evaluation every N steps, checkpoints, a JSONL log and a PNG loss curve in the
/// output folder. Deterministic given the seed: the data order is a function of (seed, epoch) and
/// LoRA dropout of (seed, step, micro-batch), so a resumed run repeats the uninterrupted one.
/// </summary>
public sealed class DistillationTrainer
{
    private readonly StudentModel _student;
    private readonly TrainingOptions _options;
    private readonly IReadOnlyList<TrainingExample> _train;
    private readonly IReadOnlyList<TrainingExample>? _eval;
    private readonly IReadOnlyList<ITeacher> _teachers;
    private readonly double[] _weights;
    private readonly FeatureDistillation? _features;
    private readonly string _outDir;
    private readonly CheckpointStore _checkpoints;

    /// <summary>Several teachers are distilled as their weighted mixture (<see cref="TrainingOptions.TeacherWeights"/>); none for SFT.</summary>
    public DistillationTrainer(StudentModel student, TrainingOptions options, IReadOnlyList<TrainingExample> train,
        IReadOnlyList<TrainingExample>? eval, IReadOnlyList<ITeacher>? teachers, string outDir)
    {
        teachers ??= [];
        options.Validate();
        if (options.Loss != LossKind.Sft && teachers.Count == 0)
            throw new RetortException($"loss '{options.Loss}' needs a teacher (--teacher)");
        for (int i = 0; i < teachers.Count; i++)
            if (teachers[i].Vocabulary < student.OutputVocabulary)
                throw new RetortException($"teacher {i + 1}'s head has {teachers[i].Vocabulary} tokens, the student's loss vocabulary {student.OutputVocabulary}: teachers and student need the same vocabulary");
        _student = student;
        _options = options;
        _train = train;
        _eval = eval;
        _teachers = options.Loss == LossKind.Sft && options.FeatureLayers == null ? [] : teachers;
        _weights = _teachers.Count == 0 ? [] : TeacherTargets.NormalizedWeights(options.TeacherWeights, _teachers.Count);
        if (options.FeatureLayers != null)
        {
            // Hidden states come from the first teacher, which must run here (precomputed logits have none).
            if (_teachers.Count == 0 || _teachers[0] is not OnlineTeacher online)
                throw new RetortException("--feature-layers needs an online teacher (the first --teacher) for its hidden states");
            _features = new FeatureDistillation(student, online.HiddenSize, FeatureDistillation.ParseLayers(options.FeatureLayers), options.FeatureLoss,
                options.FeatureWeight, options.Seed);
        }
        _outDir = outDir;
        _checkpoints = new CheckpointStore(outDir);
    }

    public string LogPath => Path.Combine(_outDir, "log.jsonl");

    public string CurvePath => Path.Combine(_outDir, "loss.png");

    /// <summary>The optimizer steps this run takes (from --steps, or --epochs over the data).</summary>
    public int TotalSteps()
    {
        if (_options.Steps is int steps) return steps;
        var sampler = new BatchSampler(_train, _options.BatchRows, _options.SequenceLength, _options.Pack, _options.Seed);
        return Math.Max(1, (int)Math.Ceiling(_options.Epochs * sampler.BatchesPerEpoch() / _options.GradientAccumulation));
    }

    public TrainingResult Run(bool resume, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var o = _options;
        Directory.CreateDirectory(_outDir);
        IReadOnlyList<Parameter> trainable = [.. _student.TrainableParameters, .. _features?.Projections ?? []];
        if (trainable.Count == 0) throw new RetortException("the model has no trainable parameters");
        // Biases and norm weights are not decayed (as transformers' Trainer does): decay pulls them toward 0, not toward "simpler".
        var optimizers = trainable.Select(p => new AdamW(p.Length, o.Beta1, o.Beta2, o.AdamEpsilon, p.Shape.Count >= 2 ? o.WeightDecay : 0)).ToList();
        var sampler = new BatchSampler(_train, o.BatchRows, o.SequenceLength, o.Pack, o.Seed);
        int total = TotalSteps();
        int warmup = o.WarmupSteps ?? (int)(0.03 * total);
        int step = 0;
        long tokens = 0;
        var losses = new List<double>();
        var evals = new List<EvalPoint>();
        string? latest = null;

        if (resume)
        {
            var state = _checkpoints.Load(trainable, optimizers);
            // Compared as JSON: the record's own equality would compare arrays (teacher weights) by reference.
            if (JsonSerializer.Serialize(state.Options, CheckpointStore.Json) != JsonSerializer.Serialize(o, CheckpointStore.Json))
                throw new RetortException($"--resume: the checkpoint in {_checkpoints.Folder} was made with other training options; resume with the same options (or a new --out)");
            step = state.Step;
            total = state.TotalSteps;
            tokens = state.Tokens;
            sampler.Seek(state.Epoch, state.Cursor);
            losses.AddRange(state.Losses);
            evals.AddRange(state.EvalLosses);
            latest = _checkpoints.Latest;
            TrimLog(step);
        }
        else if (File.Exists(LogPath))
        {
            File.Delete(LogPath);
        }

        int vocab = _student.OutputVocabulary;
        float[] grad = [];
        var clock = Stopwatch.StartNew();
        long tokensAtStart = tokens;
        int firstStep = step;
        using var log = new StreamWriter(LogPath, append: true);
        while (step < total)
        {
            cancel.ThrowIfCancellationRequested();
            _student.ZeroGradients();
            double loss = 0;
            // The master weights come back when the scope closes, before the optimizer updates them (straight-through estimator).
            using (FakeQuantization.Apply(_student, o.Qat))
            for (int micro = 0; micro < o.GradientAccumulation; micro++)
            {
                var batch = sampler.Next();
                int n = batch.TokenCount;
                if (grad.Length < n * vocab) grad = new float[n * vocab];
                var (teachers, hidden) = TeacherOutputs(batch, vocab);
                var dropout = _student.Lora is { Dropout: > 0 } ? new Random(HashCode.Combine(o.Seed, step, micro)) : null;
                var logits = _student.Forward(batch, dropout);
                double microLoss = DistillationObjective.Compute(o, logits.AsSpan(0, n * vocab), teachers, _weights, batch.Targets, vocab,
                    grad.AsSpan(0, n * vocab), 1.0 / o.GradientAccumulation, TeacherTargets.Fraction(step, total));
                var hiddenGradients = _features != null ? new float[]?[_features.Pairs.Count] : null;
                if (_features != null) microLoss += _features.Compute(_student, hidden, batch.Targets, 1.0 / o.GradientAccumulation, hiddenGradients);
                if (!double.IsFinite(microLoss)) throw NotFinite(step, "loss", microLoss, latest);
                _student.Backward(grad, hiddenGradients);
                loss += microLoss / o.GradientAccumulation;
                tokens += batch.Documents.Count(d => d >= 0);
            }
            var gradients = trainable.Select(p => p.Gradient).ToList();
            double norm = o.MaxGradientNorm > 0 ? AdamW.ClipByGlobalNorm(gradients, o.MaxGradientNorm) : AdamW.ClipByGlobalNorm(gradients, double.PositiveInfinity);
            if (!double.IsFinite(norm)) throw NotFinite(step, "gradient norm", norm, latest);
            double lr = AdamW.Schedule(step, warmup, total, o.LearningRate, o.MinLearningRate);
            for (int i = 0; i < trainable.Count; i++) optimizers[i].Update(trainable[i].Value, trainable[i].Gradient, lr);
            step++;
            losses.Add(loss);

            double? evalLoss = null;
            if (_eval != null && ((o.EvalEvery > 0 && step % o.EvalEvery == 0) || step == total))
            {
                evalLoss = Evaluate(TeacherTargets.Fraction(step - 1, total));
                evals.Add(new EvalPoint(step, evalLoss.Value));
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double rate = (tokens - tokensAtStart) / Math.Max(seconds, 1e-9);
            var remaining = TimeSpan.FromSeconds(seconds / (step - firstStep) * (total - step));
            var report = new TrainingProgress(step, total, loss, lr, norm, tokens, rate, clock.Elapsed, remaining, evalLoss);
            log.WriteLine(JsonSerializer.Serialize(new
            {
                step,
                loss,
                lr,
                grad_norm = norm,
                tokens,
                tokens_per_s = rate,
                elapsed_s = seconds,
                eval_loss = evalLoss,
            }));
            log.Flush();
            progress?.Report(report);

            if ((o.SaveEvery > 0 && step % o.SaveEvery == 0) || step == total)
            {
                latest = _checkpoints.Save(new CheckpointState
                {
                    Step = step,
                    TotalSteps = total,
                    Epoch = sampler.Epoch,
                    Cursor = sampler.Cursor,
                    Tokens = tokens,
                    Options = o,
                    Losses = losses,
                    EvalLosses = evals,
                }, trainable, optimizers, o.KeepCheckpoints);
                LossCurvePng.Write(CurvePath, losses, evals);
            }
        }
        LossCurvePng.Write(CurvePath, losses, evals);
        double elapsed = clock.Elapsed.TotalSeconds;
        return new TrainingResult(step, losses, evals.Select(e => (e.Step, e.Loss)).ToList(), tokens,
            (tokens - tokensAtStart) / Math.Max(elapsed, 1e-9), latest);
    }

    /// <summary>
    /// Mean loss per target token over the evaluation data (same objective, no dropout, no update),
    /// with the schedules where the run stands (<paramref name="fraction"/>: 0 first step, 1 last).
    /// </summary>
    public double Evaluate(double fraction = 1)
    {
        if (_eval == null) throw new InvalidOperationException("no evaluation data");
        var o = _options;
        int vocab = _student.OutputVocabulary;
        var sampler = new BatchSampler(_eval, o.BatchRows, o.SequenceLength, o.Pack, o.Seed, shuffle: false);
        double weighted = 0;
        long count = 0;
        using var quantized = FakeQuantization.Apply(_student, o.Qat);
        foreach (var batch in sampler.OnePass())
        {
            int n = batch.TokenCount, targets = batch.TargetCount;
            if (targets == 0) continue;
            var (teachers, hidden) = TeacherOutputs(batch, vocab);
            var logits = _student.Forward(batch);
            double loss = DistillationObjective.Compute(o, logits.AsSpan(0, n * vocab), teachers, _weights, batch.Targets, vocab, new float[n * vocab], 1, fraction);
            if (_features != null) loss += _features.Compute(_student, hidden, batch.Targets, 1, null);
            weighted += loss * targets;
            count += targets;
        }
        return count == 0 ? double.NaN : weighted / count;
    }

    /// <summary>Every teacher's logits, and the first teacher's hidden states at the mapped layers when features are distilled.</summary>
    private (List<float[]> Logits, float[][] Hidden) TeacherOutputs(TrainingBatch batch, int vocab)
    {
        var logits = new List<float[]>(_teachers.Count);
        float[][] hidden = [];
        for (int i = 0; i < _teachers.Count; i++)
        {
            if (i == 0 && _features != null)
            {
                (var first, hidden) = ((OnlineTeacher)_teachers[0]).Run(batch, vocab, _features.TeacherLayers);
                logits.Add(first);
            }
            else
            {
                logits.Add(_teachers[i].Logits(batch, vocab));
            }
        }
        return (logits, hidden);
    }

    private static RetortException NotFinite(int step, string what, double value, string? latest) => new(
        $"training stopped at step {step + 1}: the {what} is {value} (not finite); nothing from this step was applied, " +
        (latest != null ? $"the last good checkpoint is {latest}" : "no checkpoint was written yet") +
        " (lower --lr, raise --grad-accum, or check the data)");

    /// <summary>On resume, drops log lines of steps after the checkpoint (an interrupted run may have logged them).</summary>
    private void TrimLog(int step)
    {
        if (!File.Exists(LogPath)) return;
        var kept = File.ReadLines(LogPath).Where(line =>
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                return doc.RootElement.GetProperty("step").GetInt32() <= step;
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return false;
            }
        }).ToList();
        AtomicFile.WriteText(LogPath, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
    }
}
