using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Training.Lora;
using Retort.Training.Loop;
using Retort.Training.Model;
using Retort.Training.Tests.Support;

namespace Retort.Training.Tests.Loop;

public class DistillationTrainerTests
{
    private static TrainingOptions Options(int steps, LossKind loss = LossKind.Sft) => new()
    {
        Loss = loss,
        Steps = steps,
        BatchRows = 2,
        SequenceLength = 64,
        GradientAccumulation = 2,
        LearningRate = 3e-3,
        MinLearningRate = 1e-4,
        WarmupSteps = 2,
        SaveEvery = 3,
        Seed = 5,
    };

    [Fact]
    public void ShortRunLowersTheLoss()
    {
        using var runs = new TrainingRuns();
        using var student = TrainingRuns.Student();
        var trainer = new DistillationTrainer(student, Options(16) with { EvalEvery = 8 }, TrainingRuns.Data, TrainingRuns.Data.Take(6).ToList(), null, runs.Root);
        double before = trainer.Evaluate();
        var result = trainer.Run(resume: false);
        Assert.Equal(16, result.Losses.Count);
        Assert.Equal([8, 16], result.EvalLosses.Select(e => e.Step));
        double after = result.EvalLosses[^1].Loss;
        Assert.True(after < before - 1.0, $"eval loss {before:F3} -> {after:F3}");
        Assert.True(result.Losses.TakeLast(3).Average() < result.Losses.Take(3).Average() - 1.0, string.Join(", ", result.Losses));
        Assert.Equal(16, File.ReadAllLines(trainer.LogPath).Length);
        Assert.Equal([137, 80, 78, 71], File.ReadAllBytes(trainer.CurvePath).Take(4));
    }

    public static TheoryData<string> Setups => new() { "sft", "kd+lora-dropout" };

    [Theory]
    [MemberData(nameof(Setups))]
    public void ResumeRepeatsTheUninterruptedRunBitForBit(string setup)
    {
        using var runs = new TrainingRuns();
        bool kd = setup.StartsWith("kd", StringComparison.Ordinal);
        var options = Options(7, kd ? LossKind.Kd : LossKind.Sft);
        using var teacherModel = kd ? LoadedModel.Load(TrainingRuns.TeacherFolder, threads: 1) : null;

        (TrainingResult Result, float[][] Weights) Train(string dir, int? stopAfter, bool resume)
        {
            using var student = TrainingRuns.Student();
            if (kd) student.AttachLora(new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.1, Targets = ["q_proj", "v_proj", "down_proj"] }, seed: 3);
            var teacher = teacherModel != null ? new OnlineTeacher(teacherModel, teacherModel.Tokenizer) : null;
            var trainer = new DistillationTrainer(student, options, TrainingRuns.Data, null, teacher != null ? [teacher] : null, dir);
            using var cancel = new CancellationTokenSource();
            var progress = new SynchronousProgress(p => { if (p.Step == stopAfter) cancel.Cancel(); });
            try
            {
                var result = trainer.Run(resume, progress, cancel.Token);
                return (result, student.TrainableParameters.Select(p => (float[])p.Value.Clone()).ToArray());
            }
            catch (OperationCanceledException)
            {
                return (null!, []);
            }
        }

        var straight = Train(Path.Combine(runs.Root, "straight"), null, false);
        string split = Path.Combine(runs.Root, "split");
        Train(split, 3, false);
        var resumed = Train(split, null, true);
        Assert.Equal(straight.Result.Losses, resumed.Result.Losses);
        Assert.Equal(straight.Weights.Length, resumed.Weights.Length);
        for (int i = 0; i < straight.Weights.Length; i++) Assert.Equal(straight.Weights[i], resumed.Weights[i]);
        Assert.Equal(7, File.ReadAllLines(Path.Combine(split, "log.jsonl")).Length);
    }

    [Fact]
    public void AKilledCheckpointWriteLeavesLatestIntact()
    {
        using var runs = new TrainingRuns();
        var options = Options(6);
        List<double> Straight()
        {
            using var s = TrainingRuns.Student();
            return new DistillationTrainer(s, options, TrainingRuns.Data, null, null, Path.Combine(runs.Root, "straight")).Run(false).Losses.ToList();
        }
        string dir = Path.Combine(runs.Root, "killed");
        using (var student = TrainingRuns.Student())
        {
            using var cancel = new CancellationTokenSource();
            try
            {
                new DistillationTrainer(student, options, TrainingRuns.Data, null, null, dir)
                    .Run(false, new SynchronousProgress(p => { if (p.Step == 3) cancel.Cancel(); }), cancel.Token);
            }
            catch (OperationCanceledException) { }
        }
        // A process killed while writing step 6's checkpoint: a temporary folder with a cut-off file and no state
        // (named with the dead process's id; and as versions before that named it).
        using var exited = System.Diagnostics.Process.Start("true");
        exited.WaitForExit();
        string partial = Path.Combine(dir, "checkpoints", $"step-0000006.tmp-{exited.Id}-0123abcd");
        string legacy = Path.Combine(dir, "checkpoints", ".step-0000006.tmp-deadbeef");
        foreach (string folder in new[] { partial, legacy })
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "trainable.safetensors"), [1, 2, 3]);
        }
        Assert.Equal("step-0000003", File.ReadAllText(Path.Combine(dir, "checkpoints", "latest")).Trim());

        using var again = TrainingRuns.Student();
        var resumed = new DistillationTrainer(again, options, TrainingRuns.Data, null, null, dir).Run(true);
        Assert.Equal(Straight(), resumed.Losses);
        Assert.False(Directory.Exists(partial));
        Assert.False(Directory.Exists(legacy));
        Assert.Equal("step-0000006", File.ReadAllText(Path.Combine(dir, "checkpoints", "latest")).Trim());
    }

    [Fact]
    public void NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint()
    {
        using var runs = new TrainingRuns();
        using var student = TrainingRuns.Student();
        var trainer = new DistillationTrainer(student, Options(6, LossKind.Kd), TrainingRuns.Data, null, [new PoisonedTeacher(poisonCall: 9)], runs.Root);
        var e = Assert.Throws<RetortException>(() => trainer.Run(false));
        Assert.Contains("training stopped at step 5: the loss is NaN", e.Message);
        Assert.Contains("step-0000003", e.Message);
        Assert.Equal("step-0000003", File.ReadAllText(Path.Combine(runs.Root, "checkpoints", "latest")).Trim());
    }

    [Fact]
    public void ResumeWithOtherOptionsIsRefused()
    {
        using var runs = new TrainingRuns();
        using (var s = TrainingRuns.Student()) new DistillationTrainer(s, Options(3), TrainingRuns.Data, null, null, runs.Root).Run(false);
        using var student = TrainingRuns.Student();
        var e = Assert.Throws<RetortException>(() =>
            new DistillationTrainer(student, Options(3) with { LearningRate = 1e-4 }, TrainingRuns.Data, null, null, runs.Root).Run(true));
        Assert.Contains("other training options", e.Message);
    }

    /// <summary>Teacher logits of zero, except NaN from the given call on (1-based), one call per micro-batch.</summary>
    private sealed class PoisonedTeacher(int poisonCall) : ITeacher
    {
        private int _calls;

        public int Vocabulary => TrainingReference.Vocabulary;

        public float[] Logits(TrainingBatch batch, int vocabulary)
        {
            var result = new float[batch.TokenCount * vocabulary];
            if (++_calls >= poisonCall) Array.Fill(result, float.NaN);
            return result;
        }
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
