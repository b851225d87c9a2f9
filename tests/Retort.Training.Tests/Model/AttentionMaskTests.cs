using Retort.Training.Losses;
using Retort.Training.Model;
using Retort.Training.Tests.Support;

namespace Retort.Training.Tests.Model;

/// <summary>
/// Packing and padding: documents packed into one row (positions restarting, attention blocked at
/// the boundary) must give the logits of separate runs, padding must not change real tokens, and
/// the gradient through those masks must match finite differences of the loss.
/// </summary>
public class AttentionMaskTests
{
    private static readonly int[] DocA = [3, 17, 5, 9, 30];
    private static readonly int[] DocB = [11, 2, 38, 7, 21, 4, 16];

    [Fact]
    public void PackedDocumentsGiveTheLogitsOfSeparateRuns()
    {
        using var model = TinyModels.Create();
        int v = model.OutputVocabulary;
        var a = model.Forward(Single(DocA)).AsSpan(0, DocA.Length * v).ToArray();
        var b = model.Forward(Single(DocB)).AsSpan(0, DocB.Length * v).ToArray();
        var packed = model.Forward(Packed()).AsSpan(0, (DocA.Length + DocB.Length) * v).ToArray();
        AssertClose(a, packed.AsSpan(0, a.Length));
        AssertClose(b, packed.AsSpan(a.Length, b.Length));

        // The same row without the document boundary differs: the mask is what makes them equal.
        var unmasked = model.Forward(Single([.. DocA, .. DocB])).AsSpan(DocA.Length * v, DocB.Length * v).ToArray();
        Assert.True(MaxDiff(b, unmasked) > 1e-3);
    }

    [Fact]
    public void PaddingLeavesRealTokensUnchanged()
    {
        using var model = TinyModels.Create();
        int v = model.OutputVocabulary;
        var plain = model.Forward(Single(DocB)).AsSpan(0, DocB.Length * v).ToArray();
        int[] ids = [0, 0, 0, .. DocB, 0, 0];
        int[] mask = [0, 0, 0, .. DocB.Select(_ => 1), 0, 0];
        var left = TrainingBatch.FromLabels(1, ids.Length, ids, ids, mask);
        // transformers keeps positions 0..n-1 even under a mask; give the real tokens their own positions.
        for (int i = 0; i < DocB.Length; i++) left.Positions[3 + i] = i;
        var padded = model.Forward(left).AsSpan(3 * v, DocB.Length * v).ToArray();
        AssertClose(plain, padded);
    }

    [Fact]
    public void GradientsMatchFiniteDifferencesThroughPackingAndPadding()
    {
        using var model = TinyModels.Create(threads: 2);
        var packed = Packed();
        int[] tokens = [.. packed.Tokens, .. DocA, 0, 0, 0, 0, 0, 0, 0];
        int[] targets = [.. packed.Targets, .. DocA[1..], -100, -100, -100, -100, -100, -100, -100, -100];
        int[] positions = [.. packed.Positions, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0];
        int[] documents = [.. packed.Documents, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1];
        var batch = new TrainingBatch(2, 12, tokens, targets, positions, documents);

        double Loss(float[]? grad)
        {
            var logits = model.Forward(batch);
            return TokenLosses.CrossEntropy(logits.AsSpan(0, batch.TokenCount * model.OutputVocabulary), batch.Targets,
                model.OutputVocabulary, grad ?? new float[batch.TokenCount * model.OutputVocabulary]);
        }

        var dLogits = new float[batch.TokenCount * model.OutputVocabulary];
        model.ZeroGradients();
        Loss(dLogits);
        model.Backward(dLogits);

        var random = new Random(3);
        foreach (var p in model.Parameters)
        {
            // Directional derivative along a random ±1 direction in this tensor: robust in float32.
            var direction = Enumerable.Range(0, p.Length).Select(_ => random.Next(2) * 2 - 1f).ToArray();
            double analytic = 0;
            for (int i = 0; i < p.Length; i++) analytic += p.Gradient[i] * direction[i];
            var saved = (float[])p.Value.Clone();
            const float h = 1e-3f;
            for (int i = 0; i < p.Length; i++) p.Value[i] = saved[i] + h * direction[i];
            double plus = Loss(null);
            for (int i = 0; i < p.Length; i++) p.Value[i] = saved[i] - h * direction[i];
            double minus = Loss(null);
            saved.CopyTo(p.Value, 0);
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic) <= 2e-2 * Math.Abs(analytic) + 2e-3,
                $"{p.Name}: finite difference {numeric:G6}, backward {analytic:G6}");
        }
    }

    private static TrainingBatch Single(int[] doc)
    {
        var targets = doc.Skip(1).Append(TokenLosses.IgnoreIndex).ToArray();
        return new TrainingBatch(1, doc.Length, doc, targets, Enumerable.Range(0, doc.Length).ToArray(), new int[doc.Length]);
    }

    private static TrainingBatch Packed()
    {
        int[] tokens = [.. DocA, .. DocB];
        int[] targets = [.. DocA[1..], TokenLosses.IgnoreIndex, .. DocB[1..], TokenLosses.IgnoreIndex];
        int[] positions = [.. Enumerable.Range(0, DocA.Length), .. Enumerable.Range(0, DocB.Length)];
        int[] documents = [.. DocA.Select(_ => 0), .. DocB.Select(_ => 1)];
        return new TrainingBatch(1, tokens.Length, tokens, targets, positions, documents);
    }

    private static double MaxDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = MaxDiff(expected, actual);
        Assert.True(diff <= 1e-5, $"max difference {diff:E2}");
    }
}
