using Retort.Engine.Kernels;

namespace Retort.Engine.Tests.Kernels;

/// <summary>The attention loops and softmax against their scalar references and against plain double sums.</summary>
public sealed unsafe class AttentionKernelsTests
{
    [Theory]
    [InlineData(1, 64, 64)]
    [InlineData(7, 128, 256)] // a tail after the 4-key groups; rows strided as in a 2-KV-head cache
    [InlineData(130, 128, 128)]
    [InlineData(9, 12, 12)] // a head size the vector bodies do not take: the reference runs
    public void ScoresAndWeightedSumMatchTheReferences(int count, int hd, int stride)
    {
        var rng = new Random(count * 31 + hd);
        float[] q = Random(rng, hd), keys = Random(rng, count * stride), values = Random(rng, count * stride), weights = Random(rng, count);
        float[] fast = new float[count], slow = new float[count], sumFast = new float[hd], sumSlow = new float[hd];
        const float scale = 0.125f;
        fixed (float* pq = q, pk = keys, pv = values, pw = weights, pf = fast, ps = slow, of = sumFast, os = sumSlow)
        {
            AttentionKernels.Scores(pq, pk, stride, count, hd, scale, pf);
            AttentionKernels.ScoresScalar(pq, pk, stride, count, hd, scale, ps);
            AttentionKernels.WeightedSum(of, pv, stride, pw, count, hd);
            AttentionKernels.WeightedSumScalar(os, pv, stride, pw, count, hd);
        }
        for (int p = 0; p < count; p++)
        {
            double exact = 0;
            for (int d = 0; d < hd; d++) exact += (double)q[d] * keys[p * stride + d];
            Assert.Equal(exact * scale, slow[p], 1e-5 * Math.Sqrt(hd));
            Assert.Equal(exact * scale, fast[p], 1e-5 * Math.Sqrt(hd));
        }
        for (int d = 0; d < hd; d++)
        {
            double exact = 0;
            for (int p = 0; p < count; p++) exact += (double)weights[p] * values[p * stride + d];
            Assert.Equal(exact, sumSlow[d], 1e-5 * Math.Sqrt(count));
            Assert.Equal(exact, sumFast[d], 1e-5 * Math.Sqrt(count));
        }
    }

    [Theory]
    [InlineData(6, 128, 256)]
    [InlineData(33, 64, 64)]
    [InlineData(5, 12, 12)]
    public void F16ScoresAndWeightedSumMatchTheReferences(int count, int hd, int stride)
    {
        var rng = new Random(count + hd);
        float[] q = Random(rng, hd), weights = Random(rng, count);
        ushort[] keys = Random(rng, count * stride).Select(v => BitConverter.HalfToUInt16Bits((Half)v)).ToArray();
        ushort[] values = Random(rng, count * stride).Select(v => BitConverter.HalfToUInt16Bits((Half)v)).ToArray();
        float[] fast = new float[count], slow = new float[count], sumFast = new float[hd], sumSlow = new float[hd];
        fixed (float* pq = q, pw = weights, pf = fast, ps = slow, of = sumFast, os = sumSlow)
        fixed (ushort* pk = keys, pv = values)
        {
            AttentionKernels.ScoresF16(pq, pk, stride, count, hd, 0.5f, pf);
            AttentionKernels.ScoresF16Scalar(pq, pk, stride, count, hd, 0.5f, ps);
            AttentionKernels.WeightedSumF16(of, pv, stride, pw, count, hd);
            AttentionKernels.WeightedSumF16Scalar(os, pv, stride, pw, count, hd);
        }
        for (int p = 0; p < count; p++)
        {
            double exact = 0;
            for (int d = 0; d < hd; d++) exact += q[d] * (double)BitConverter.UInt16BitsToHalf(keys[p * stride + d]);
            Assert.Equal(exact * 0.5, slow[p], 1e-5 * Math.Sqrt(hd));
            Assert.Equal(exact * 0.5, fast[p], 1e-5 * Math.Sqrt(hd));
        }
        for (int d = 0; d < hd; d++)
        {
            double exact = 0;
            for (int p = 0; p < count; p++) exact += weights[p] * (double)BitConverter.UInt16BitsToHalf(values[p * stride + d]);
            Assert.Equal(exact, sumSlow[d], 1e-5 * Math.Sqrt(count));
            Assert.Equal(exact, sumFast[d], 1e-5 * Math.Sqrt(count));
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(133)]
    public void SoftmaxMatchesTheReference(int n)
    {
        var rng = new Random(n);
        float[] x = Random(rng, n).Select(v => 30 * v).ToArray();
        float[] fast = (float[])x.Clone(), slow = (float[])x.Clone();
        VectorMath.Softmax(fast);
        VectorMath.SoftmaxScalar(slow);
        double max = x.Max(), total = x.Sum(v => Math.Exp(v - max));
        for (int i = 0; i < n; i++)
        {
            double expected = Math.Exp(x[i] - max) / total;
            Assert.Equal(expected, slow[i], 1e-6 + 1e-5 * expected);
            Assert.Equal(expected, fast[i], 1e-6 + 1e-5 * expected);
        }
    }

    private static float[] Random(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
}
