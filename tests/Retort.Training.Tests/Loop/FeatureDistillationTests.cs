using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Training.Losses;
using Retort.Training.Loop;
using Retort.Training.Model;
using Retort.Training.Tests.Support;

namespace Retort.Training.Tests.Loop;

public class FeatureDistillationTests
{
    private static readonly int[] Tokens = [3, 17, 5, 9, 30, 11, 2, 38, 7, 21, 4, 16];

    [Theory]
    [InlineData(FeatureLoss.Mse)]
    [InlineData(FeatureLoss.Cosine)]
    public void GradientsOfStudentAndProjectionMatchFiniteDifferences(FeatureLoss kind)
    {
        using var model = TinyModels.Create(threads: 2);
        int[] labels = [.. Tokens];
        labels[0] = labels[1] = TokenLosses.IgnoreIndex; // masked positions take no feature loss either
        var batch = TrainingBatch.FromLabels(1, Tokens.Length, Tokens, labels);
        const int teacherHidden = 24;
        var random = new Random(5);
        float[][] teacher = [.. Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, Tokens.Length * teacherHidden).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray())];
        var features = new FeatureDistillation(model, teacherHidden, [(1, 3), (0, 0)], kind, weight: 0.7, seed: 9);
        int v = model.OutputVocabulary;

        double Loss(bool backward)
        {
            var logits = model.Forward(batch);
            var dLogits = new float[batch.TokenCount * v];
            double ce = TokenLosses.CrossEntropy(logits.AsSpan(0, batch.TokenCount * v), batch.Targets, v, dLogits);
            var hidden = backward ? new float[]?[2] : null;
            double feature = features.Compute(model, teacher, batch.Targets, 1, hidden);
            if (backward) model.Backward(dLogits, hidden);
            return ce + feature;
        }

        model.ZeroGradients();
        foreach (var p in features.Projections) p.ClearGradient();
        Loss(backward: true);

        var direction = new Random(3);
        foreach (var p in model.Parameters.Concat(features.Projections))
        {
            var d = Enumerable.Range(0, p.Length).Select(_ => direction.Next(2) * 2 - 1f).ToArray();
            double analytic = 0;
            for (int i = 0; i < p.Length; i++) analytic += p.Gradient[i] * d[i];
            var saved = (float[])p.Value.Clone();
            const float h = 1e-3f;
            for (int i = 0; i < p.Length; i++) p.Value[i] = saved[i] + h * d[i];
            double plus = Loss(false);
            for (int i = 0; i < p.Length; i++) p.Value[i] = saved[i] - h * d[i];
            double minus = Loss(false);
            saved.CopyTo(p.Value, 0);
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic) <= 2e-2 * Math.Abs(analytic) + 2e-3, $"{p.Name}: finite difference {numeric:G6}, backward {analytic:G6}");
        }
        // The projections really receive gradient (the check above is not vacuous for them).
        Assert.All(features.Projections, p => Assert.Contains(p.Gradient, g => Math.Abs(g) > 1e-4));
    }

    [Fact]
    public void MseIsTheMeanSquaredDistanceOfTheProjectedState()
    {
        using var model = TinyModels.Create(threads: 1);
        var batch = TrainingBatch.FromLabels(1, 4, Tokens[..4], Tokens[..4]); // the last position has no target
        var features = new FeatureDistillation(model, teacherHidden: 3, [(0, 0)], FeatureLoss.Mse, weight: 0.5, seed: 1);
        model.Forward(batch);
        var h = model.CapturedHidden(0);
        var p = features.Projections[0].Value;
        var teacher = new float[4 * 3];
        for (int i = 0; i < teacher.Length; i++) teacher[i] = i * 0.1f - 0.5f;
        double expected = 0;
        for (int r = 0; r < 3; r++)
            for (int j = 0; j < 3; j++)
            {
                double y = 0;
                for (int k = 0; k < 32; k++) y += (double)p[j * 32 + k] * h[r * 32 + k];
                expected += (y - teacher[r * 3 + j]) * (y - teacher[r * 3 + j]) / 9;
            }
        Assert.Equal(0.5 * expected, features.Compute(model, [teacher], batch.Targets, 1, null), 5);
    }

    [Fact]
    public void EngineHiddenStatesEqualTheStudentsForTheSameModel()
    {
        using var engine = LoadedModel.Load(TrainingRuns.StudentFolder, threads: 1);
        using var student = TrainingRuns.Student();
        int last = student.Config.LayerCount - 1;
        student.CapturedLayers = [0, last];
        var batch = new Retort.Training.Data.BatchSampler(TrainingRuns.Data.Take(3).ToList(), rows: 1, sequenceLength: 96, pack: true, seed: 2).Next();
        student.Forward(batch);
        var (_, hidden) = new OnlineTeacher(engine, engine.Tokenizer).Run(batch, TrainingReference.Vocabulary, [0, last]);
        for (int i = 0; i < 2; i++)
        {
            var expected = student.CapturedHidden(i);
            double max = 0, diff = 0;
            for (int t = 0; t < batch.TokenCount; t++)
            {
                if (batch.Documents[t] < 0) continue;
                for (int j = 0; j < student.Config.HiddenSize; j++)
                {
                    int k = t * student.Config.HiddenSize + j;
                    max = Math.Max(max, Math.Abs(expected[k]));
                    diff = Math.Max(diff, Math.Abs(expected[k] - hidden[i][k]));
                }
            }
            Assert.True(max > 0.1 && diff <= 1e-4 * max, $"layer {(i == 0 ? 0 : last)}: max |h| {max}, max difference {diff}");
        }
    }

    [Fact]
    public void BadLayerMapsAreClearErrors()
    {
        Assert.Equal([(0, 1), (1, 3)], FeatureDistillation.ParseLayers("0:1, 1:3"));
        Assert.Contains("'0-1' is not STUDENT:TEACHER", Assert.Throws<RetortException>(() => FeatureDistillation.ParseLayers("0-1")).Message);
        Assert.Contains("student layer 0 is mapped twice", Assert.Throws<RetortException>(() => FeatureDistillation.ParseLayers("0:1,0:2")).Message);
        using var model = TinyModels.Create(threads: 1);
        Assert.Contains("student layer 5 does not exist", Assert.Throws<RetortException>(() => new FeatureDistillation(model, 8, [(5, 0)], FeatureLoss.Mse, 1, 1)).Message);
    }
}
