using Retort.Engine.Quantization;
using Retort.Engine.Tensors;

namespace Retort.Engine.Tests.Quantization;

public class QuantizeTests
{
    private static byte[] Q(GgmlType type, float[] x)
    {
        var b = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
        Quantize.Row(type, x, b);
        return b;
    }

    private static float[] RoundTrip(GgmlType type, float[] x)
    {
        var y = new float[x.Length];
        Dequantize.Row(type, Q(type, x), y);
        return y;
    }

    [Fact]
    public void Q8_0KnownBytesAndRoundHalfAwayFromZero()
    {
        // amax 127 gives d = 1 exactly (half 0x3C00), so q is round(x) with halves away from zero.
        var x = new float[32];
        x[0] = 127f; x[1] = 2.5f; x[2] = -2.5f; x[3] = 0.49f; x[4] = -126.5f;
        byte[] b = Q(GgmlType.Q8_0, x);
        Assert.Equal(0x00, b[0]);
        Assert.Equal(0x3C, b[1]);
        Assert.Equal([127, 3, unchecked((byte)-3), 0, unchecked((byte)-127)], b[2..7]);
        Assert.All(b[7..], v => Assert.Equal(0, v));
    }

    [Fact]
    public void AllZeroBlocksQuantizeToZero()
    {
        foreach (GgmlType t in new[] { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1 })
            Assert.All(RoundTrip(t, new float[64]), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ValuesOnTheGridRoundTripExactly()
    {
        var q80 = new float[32];
        var q40 = new float[32];
        var q41 = new float[32];
        var q50 = new float[32];
        var q51 = new float[32];
        for (int i = 0; i < 32; i++)
        {
            q80[i] = (i == 0 ? 127 : i * 3 - 50) * 0.5f;      // amax 63.5 -> d = 0.5
            q40[i] = ((i * 5) % 16 - 8) * 0.25f;              // includes -2 (q = 0) -> d = 0.25
            q41[i] = -1f + (i % 16) * 0.5f;                   // min -1, max 6.5 -> d = 0.5
            q50[i] = (i - 16) * 0.125f;                       // includes -2 -> d = 0.125
            q51[i] = -2f + i * 0.25f;                         // min -2, max 5.75 -> d = 0.25
        }
        Assert.Equal(q80, RoundTrip(GgmlType.Q8_0, q80));
        Assert.Equal(q40, RoundTrip(GgmlType.Q4_0, q40));
        Assert.Equal(q41, RoundTrip(GgmlType.Q4_1, q41));
        Assert.Equal(q50, RoundTrip(GgmlType.Q5_0, q50));
        Assert.Equal(q51, RoundTrip(GgmlType.Q5_1, q51));
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void RandomDataStaysWithinHalfAStep(GgmlType type)
    {
        var rng = new Random(42 + (int)type);
        var x = new float[32 * 64];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-3, 3)));
        float[] y = RoundTrip(type, x);
        for (int blk = 0; blk < x.Length / 32; blk++)
        {
            var xs = x.AsSpan(blk * 32, 32);
            float amax = 0, min = float.MaxValue, max = float.MinValue;
            foreach (float v in xs) { amax = Math.Max(amax, Math.Abs(v)); min = Math.Min(min, v); max = Math.Max(max, v); }
            for (int i = 0; i < 32; i++)
            {
                float xv = xs[i];
                double bound = type switch
                {
                    // Half a step, plus the effect of storing the scale (and min) as fp16 (relative 2^-11).
                    GgmlType.Q8_0 => 0.5 * amax / 127 + amax * 1e-3,
                    // Q4_0/Q5_0 clamp the top code, so the value opposite the extreme may be a full step off.
                    GgmlType.Q4_0 => amax / 8 * 1.01,
                    GgmlType.Q5_0 => amax / 16 * 1.01,
                    GgmlType.Q4_1 => 0.5 * (max - min) / 15 * 1.01 + Math.Abs(min) * 1e-3 + (max - min) * 1e-3,
                    GgmlType.Q5_1 => 0.5 * (max - min) / 31 * 1.01 + Math.Abs(min) * 1e-3 + (max - min) * 1e-3,
                    GgmlType.F16 => Math.Abs(xv) * Math.Pow(2, -11) + 1e-7,
                    _ => Math.Abs(xv) * Math.Pow(2, -8),
                };
                Assert.True(Math.Abs(y[blk * 32 + i] - xv) <= bound, $"{type} block {blk} [{i}]: {xv} -> {y[blk * 32 + i]} (bound {bound})");
            }
        }
    }

    [Fact]
    public void F16AndBF16RoundToNearestEven()
    {
        // 1 + 2^-11 is exactly between halves 1 and 1 + 2^-10: ties go to the even mantissa (1).
        // 1 + 3*2^-11 lies between 1 + 2^-10 and 1 + 2^-9: the tie goes to 1 + 2^-9.
        float[] x = [1f + MathF.Pow(2, -11), 1f + 3 * MathF.Pow(2, -11)];
        byte[] h = Q(GgmlType.F16, x);
        Assert.Equal([0x00, 0x3C, 0x02, 0x3C], h);
        // bf16: 1 + 2^-8 ties to 1 (0x3F80); 1 + 3*2^-8 ties to 1 + 2^-6 (0x3F82).
        byte[] b = Q(GgmlType.BF16, [1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8)]);
        Assert.Equal([0x80, 0x3F, 0x82, 0x3F], b);
    }

    [Fact]
    public void Q5_KSitsBetweenQ4_KAndQ6_KAndUsesItsFifthBit()
    {
        float[] x = Gaussianish(256 * 8, 5, 0.02f);
        double q4 = Rmse(x, RoundTrip(GgmlType.Q4_K, x)), q5 = Rmse(x, RoundTrip(GgmlType.Q5_K, x)), q6 = Rmse(x, RoundTrip(GgmlType.Q6_K, x));
        Assert.True(q6 < q5 && q5 < q4, $"rmse Q4_K {q4}, Q5_K {q5}, Q6_K {q6}");
        // Levels 16..31 live in qh: a Q5_K that dropped them would be no better than Q4_K.
        byte[] block = new byte[176];
        Quantize.Row(GgmlType.Q5_K, x.AsSpan(0, 256), block);
        Assert.Contains(block.AsSpan(16, 32).ToArray(), b => b != 0);
    }

    private static float[] Gaussianish(int n, int seed, float sd, float mean = 0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => mean + sd * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
    }

    private static double Rmse(float[] a, float[] b) => Math.Sqrt(a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Average());

    [Theory]
    [InlineData(GgmlType.Q4_K, 0.10)]
    [InlineData(GgmlType.Q5_K, 0.05)]
    [InlineData(GgmlType.Q6_K, 0.025)]
    [InlineData(GgmlType.Q4_0, 0.14)]
    public void KQuantRoundTripErrorIsSmall(GgmlType type, double relative)
    {
        // Bounds a little above what ggml's quantizers reach on Gaussian data (Q4_K ~0.08, Q5_K ~0.04, Q6_K ~0.018 of sd),
        // with Q4_0 beside them to show the K-quant is the better 4-bit format, as it should be.
        float[] x = Gaussianish(256 * 16, 3, 0.02f);
        double rmse = Rmse(x, RoundTrip(type, x));
        Assert.True(rmse < relative * 0.02, $"{type} rmse {rmse / 0.02:F4} of sd");
    }

    [Fact]
    public void Q4_KBeatsQ4_0AndKeepsAnOffsetBlock()
    {
        float[] x = Gaussianish(256 * 8, 5, 0.02f);
        Assert.True(Rmse(x, RoundTrip(GgmlType.Q4_K, x)) < Rmse(x, RoundTrip(GgmlType.Q4_0, x)));
        // All-negative data uses the min: Q4_K stores x ≈ d·q − dmin·m (ggml clamps the min at 0 from
        // above, so only negative offsets are absorbed) and keeps such a block nearly as tight as centred data.
        float[] shifted = Gaussianish(256, 6, 0.01f, -1f);
        double rmse = Rmse(shifted, RoundTrip(GgmlType.Q4_K, shifted));
        Assert.True(rmse < 0.003, $"rmse {rmse}");
    }

    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void KQuantZeroBlockIsZeroAndSignsSurvive(GgmlType type)
    {
        Assert.All(RoundTrip(type, new float[256]), v => Assert.Equal(0f, v));
        var x = new float[256];
        for (int i = 0; i < 256; i++) x[i] = (i % 2 == 0 ? 1 : -1) * (1 + i % 7) * 0.01f;
        float[] y = RoundTrip(type, x);
        for (int i = 0; i < 256; i++) Assert.True(Math.Sign(x[i]) == Math.Sign(y[i]) || Math.Abs(x[i] - y[i]) < 0.01f, $"element {i}: {x[i]} -> {y[i]}");
        Assert.True(Rmse(x, y) < (type == GgmlType.Q6_K ? 0.002 : 0.006));
    }

    [Fact]
    public void WrongSizesAreArgumentExceptions()
    {
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q4_0, new float[31], new byte[18]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q4_0, new float[32], new byte[19]));
    }
}
