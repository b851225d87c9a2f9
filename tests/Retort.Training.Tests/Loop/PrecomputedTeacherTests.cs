using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Engine.Tokenization;
using Retort.Tests.Support;
using Retort.Training.Data;
using Retort.Training.Loop;
using Retort.Training.Model;
using Retort.Training.Tests.Support;

namespace Retort.Training.Tests.Loop;

public sealed class PrecomputedTeacherTests : IDisposable
{
    private const int Vocab = TrainingReference.Vocabulary;
    private readonly string _dir = Directory.CreateTempSubdirectory("retort-topk-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IReadOnlyList<TrainingExample> Examples => TrainingRuns.Data.Take(4).ToList();

    [Fact]
    public void TopKOfTheWholeVocabularyGivesTheOnlineTeachersLossAndGradient()
    {
        using var model = LoadedModel.Load(TrainingRuns.TeacherFolder, threads: 1);
        var online = new OnlineTeacher(model, model.Tokenizer);
        string path = Path.Combine(_dir, "all.bin");
        TeacherLogitsFile.Write(path, online, Examples, model.Tokenizer, Vocab, topK: Vocab);
        var stored = TeacherLogitsFile.Read(path, Examples, model.Tokenizer);
        Assert.Equal(Vocab, stored.TopK);

        var batch = new BatchSampler(Examples, rows: 2, sequenceLength: 96, pack: true, seed: 1).Next();
        int n = batch.TokenCount;
        var rng = new Random(3);
        var student = Enumerable.Range(0, n * Vocab).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
        var options = new TrainingOptions { Loss = LossKind.Kd, Temperature = 2, Alpha = 0.5 };
        var expectedGrad = new float[n * Vocab];
        var actualGrad = new float[n * Vocab];
        double expected = DistillationObjective.Compute(options, student, [online.Logits(batch, Vocab)], [1.0], batch.Targets, Vocab, expectedGrad, 1, 0);
        double actual = DistillationObjective.Compute(options, student, [stored.Logits(batch, Vocab)], [1.0], batch.Targets, Vocab, actualGrad, 1, 0);
        Assert.True(batch.TargetCount > 10);
        Assert.Equal(expected, actual, 1e-5 * expected);
        double max = expectedGrad.Max(Math.Abs);
        for (int i = 0; i < n * Vocab; i++)
            Assert.True(Math.Abs(expectedGrad[i] - actualGrad[i]) <= 1e-5 * max, $"[{i}] online {expectedGrad[i]} stored {actualGrad[i]}");
    }

    [Fact]
    public void TopKKeepsTheTeachersTopProbabilitiesAndSpreadsTheRestEvenly()
    {
        using var model = LoadedModel.Load(TrainingRuns.TeacherFolder, threads: 1);
        var online = new OnlineTeacher(model, model.Tokenizer);
        string path = Path.Combine(_dir, "top5.bin");
        TeacherLogitsFile.Write(path, online, Examples, model.Tokenizer, Vocab, topK: 5);
        // Header, one length per example, then 5 × 8 bytes per position.
        Assert.Equal(84 + 4 * 4 + Examples.Sum(e => e.Length) * 5 * 8, new FileInfo(path).Length);
        var stored = TeacherLogitsFile.Read(path, Examples, model.Tokenizer);

        var batch = new BatchSampler(Examples, rows: 1, sequenceLength: 96, pack: false, seed: 1, shuffle: false).Next();
        var reference = online.Logits(batch, Vocab);
        var rebuilt = stored.Logits(batch, Vocab);
        for (int t = 0; t < batch.TokenCount; t++)
        {
            if (batch.Documents[t] < 0) continue;
            var z = reference.AsSpan(t * Vocab, Vocab).ToArray().Select(x => (double)x).ToArray();
            double logZ = Math.Log(z.Sum(x => Math.Exp(x - z.Max()))) + z.Max();
            var top = Enumerable.Range(0, Vocab).OrderByDescending(v => z[v]).Take(5).ToArray();
            double rest = 1 - top.Sum(v => Math.Exp(z[v] - logZ));
            var row = rebuilt.AsSpan(t * Vocab, Vocab).ToArray();
            Assert.Equal(1, row.Sum(x => Math.Exp(x)), 1e-4);
            foreach (int v in top) Assert.Equal(z[v] - logZ, row[v], 1e-4);
            int other = Enumerable.Range(0, Vocab).First(v => !top.Contains(v));
            Assert.Equal(Math.Log(rest / (Vocab - 5)), row[other], 3);
        }
    }

    [Fact]
    public void AFileForOtherDataOrAnotherTokenizerIsRefused()
    {
        using var model = LoadedModel.Load(TrainingRuns.StudentFolder, threads: 1);
        string path = Path.Combine(_dir, "stale.bin");
        TeacherLogitsFile.Write(path, new ConstantTeacher(), Examples, model.Tokenizer, Vocab, topK: 3);

        var otherData = TrainingRuns.Data.Skip(1).Take(4).ToList();
        var data = Assert.Throws<RetortException>(() => TeacherLogitsFile.Read(path, otherData, model.Tokenizer));
        Assert.Contains("made for other data", data.Message);

        var otherTokenizer = Tokenizer.FromHfFolder(Fixtures.Path("r1-qwen-tokenizer"));
        var tokenizer = Assert.Throws<RetortException>(() => TeacherLogitsFile.Read(path, Examples, otherTokenizer));
        Assert.Contains("another tokenizer", tokenizer.Message);

        File.WriteAllBytes(Path.Combine(_dir, "cut.bin"), File.ReadAllBytes(path)[..^8]);
        Assert.Contains("truncated", Assert.Throws<RetortException>(() => TeacherLogitsFile.Read(Path.Combine(_dir, "cut.bin"), Examples, model.Tokenizer)).Message);

        // A batch from other examples (evaluation data) must not be looked up in the training file.
        var stored = TeacherLogitsFile.Read(path, Examples, model.Tokenizer);
        var foreign = new BatchSampler(otherData, rows: 1, sequenceLength: 96, pack: false, seed: 1, shuffle: false).Next();
        Assert.Contains("not in the file's data", Assert.Throws<RetortException>(() => stored.Logits(foreign, Vocab)).Message);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp*"));
    }

    private sealed class ConstantTeacher : ITeacher
    {
        public int Vocabulary => Vocab;

        public float[] Logits(TrainingBatch batch, int vocabulary)
        {
            var result = new float[batch.TokenCount * vocabulary];
            for (int i = 0; i < result.Length; i++) result[i] = i % vocabulary % 7;
            return result;
        }
    }
}
