using Retort.Engine.Kernels;
using Retort.Engine.Tensors;

namespace Retort.Engine.Tests.Kernels;

public sealed unsafe class DotProductTests
{
    public static readonly TheoryData<GgmlType> QuantTypes = new() { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K };

    public static readonly TheoryData<GgmlType> AllTypes = new()
    {
        GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16, GgmlType.F32,
    };

    private static readonly KernelPath[] VectorPaths = [KernelPath.Vector128, KernelPath.Avx2, KernelPath.AvxVnni];

    /// <summary>Row lengths covering one block, odd block counts (the unrolled loops' tails) and model widths.</summary>
    private static int[] Lengths(GgmlType type) => GgmlTypeInfo.BlockSize(type) switch
    {
        32 => [32, 64, 96, 160, 544, 1536, 8960],
        256 => [256, 512, 768, 1536, 8960],
        _ => [1, 7, 8, 15, 16, 17, 33, 100, 1536, 8960],
    };

    /// <summary>Runs one dot through the kernel for the given path, quantizing x as the matmul would.</summary>
    internal static float KernelDot(GgmlType type, KernelPath path, byte[] row, float[] x, QuantizedActivations act)
    {
        int n = x.Length;
        fixed (byte* w = row)
        fixed (float* xp = x)
        {
            switch (type)
            {
                case GgmlType.Q8_0:
                    act.QuantizeQ8(xp, n, 1);
                    return DotQ8_0.Dot(path, w, act.Q(0), act.D(0), n / 32);
                case GgmlType.Q4_0:
                    act.QuantizeQ8(xp, n, 1);
                    return DotQ4_0.Dot(path, w, act.Q(0), act.D(0), act.S(0), n / 32);
                case GgmlType.Q4_K:
                    act.QuantizeQ8K(xp, n, 1);
                    return DotQ4_K.Dot(path, w, act.Q(0), act.D(0), act.BSums(0), n / 256);
                case GgmlType.Q6_K:
                    act.QuantizeQ8K(xp, n, 1);
                    return DotQ6_K.Dot(path, w, act.Q(0), act.D(0), act.BSums(0), n / 256);
                case GgmlType.F16: return DotF16.Dot(path, (ushort*)w, xp, n);
                case GgmlType.BF16: return DotBF16.Dot(path, (ushort*)w, xp, n);
                case GgmlType.F32: return DotF32.Dot(path, (float*)w, xp, n);
                default: throw new NotSupportedException(type.ToString());
            }
        }
    }

    /// <summary>The activations as the kernels see them: dequantized 8-bit values, or x itself for float types.</summary>
    private static double[] SeenActivations(GgmlType type, float[] x, QuantizedActivations act)
    {
        var r = new double[x.Length];
        if (act.Format == ActivationFormat.None || type is GgmlType.F16 or GgmlType.BF16 or GgmlType.F32)
        {
            for (int i = 0; i < x.Length; i++) r[i] = x[i];
            return r;
        }
        int block = act.Format == ActivationFormat.Q8K ? 256 : 32;
        for (int i = 0; i < x.Length; i++) r[i] = (double)act.D(0)[i / block] * act.Q(0)[i];
        return r;
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void VectorPathsMatchScalarReference(GgmlType type)
    {
        var rng = new Random(1234 + (int)type);
        var act = new QuantizedActivations();
        int checkedPaths = 0;
        foreach (int n in Lengths(type))
        {
            for (int trial = 0; trial < 3; trial++)
            {
                byte[] row = TestBlocks.RandomRow(type, n, rng);
                float[] x = TestBlocks.RandomActivations(n, rng);
                float reference = KernelDot(type, KernelPath.Scalar, row, x, act);
                double[] w = TestBlocks.Dequantize(type, row, n);
                double[] xs = SeenActivations(type, x, act);
                // Integer block sums are exact in every path; only the float accumulation order
                // differs. k float additions err by at most k·2^-24·Σ|terms|; the Q4_0/Q6_K paths
                // also fold the weight offset (8 or 32 per element) in separately, so the
                // magnitude includes that term too. 1e-4 covers k up to ~1600 terms.
                double magnitude = 0;
                double offset = type switch { GgmlType.Q4_0 => 8, GgmlType.Q6_K => 32, GgmlType.Q4_K => 1, _ => 0 };
                for (int i = 0; i < n; i++) magnitude += Math.Abs(w[i] * xs[i]) + offset * Math.Abs(xs[i]) * BlockScaleOf(type, row, i);
                double tol = 1e-4 * magnitude + 1e-6;
                foreach (KernelPath path in VectorPaths)
                {
                    if (!KernelPaths.IsSupported(path)) continue;
                    float v = KernelDot(type, path, row, x, act);
                    Assert.True(Math.Abs(v - reference) <= tol,
                        $"{type} {path} n={n}: {v} vs scalar {reference} (tol {tol})");
                    checkedPaths++;
                }
            }
        }
        Assert.True(checkedPaths > 0, "no vector path is supported on this machine");
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void ScalarReferenceMatchesDequantizedDotWithinActivationQuantizationError(GgmlType type)
    {
        var rng = new Random(99 + (int)type);
        var act = new QuantizedActivations();
        foreach (int n in Lengths(type))
        {
            byte[] row = TestBlocks.RandomRow(type, n, rng);
            float[] x = TestBlocks.RandomActivations(n, rng);
            float got = KernelDot(type, KernelPath.Scalar, row, x, act);
            double[] w = TestBlocks.Dequantize(type, row, n);
            double exact = 0, magnitude = 0, quantError = 0;
            for (int i = 0; i < n; i++)
            {
                exact += w[i] * x[i];
                magnitude += Math.Abs(w[i] * x[i]);
            }
            if (type is GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K)
            {
                // Each activation becomes d·round(x/d) with d = max|x|/127 over its block, and
                // |x/d| ≤ 127 so nothing clips: |x − x̂| ≤ d/2 (the 1e-4 slack covers the float
                // rounding of x·(127/max)). Weights are exact, so the dot moves by at most
                // Σ|w_i|·d_i/2. Float accumulation of per-block sums adds ≤ 1e-4·Σ|w x|.
                int block = act.Format == ActivationFormat.Q8K ? 256 : 32;
                for (int i = 0; i < n; i++) quantError += Math.Abs(w[i]) * act.D(0)[i / block] * 0.5 * (1 + 1e-4);
            }
            double bound = quantError + 1e-4 * magnitude + 1e-6;
            Assert.True(Math.Abs(got - exact) <= bound, $"{type} n={n}: {got} vs exact {exact} (bound {bound})");
        }
    }

    [Theory]
    [MemberData(nameof(QuantTypes))]
    public void DotDetectsACorruptedWeight(GgmlType type)
    {
        // Guards the tests above against being vacuous: flipping one quant changes the result by
        // more than the tolerance they allow.
        var rng = new Random(7);
        var act = new QuantizedActivations();
        int n = GgmlTypeInfo.BlockSize(type) * 2;
        byte[] row = TestBlocks.RandomRow(type, n, rng);
        float[] x = new float[n];
        Array.Fill(x, 1f);
        float before = KernelDot(type, KernelPaths.Best, row, x, act);
        int at = type == GgmlType.Q6_K ? 0 : row.Length - 1; // a quant byte, not a scale
        row[at] ^= 0x05;
        float after = KernelDot(type, KernelPaths.Best, row, x, act);
        Assert.NotEqual(before, after);
    }

    [Theory]
    [InlineData(GgmlType.Q4_0, false)]
    [InlineData(GgmlType.Q4_0, true)]
    [InlineData(GgmlType.Q8_0, false)]
    [InlineData(GgmlType.Q8_0, true)]
    public void FourRowKernelsMatchScalarReference(GgmlType type, bool vnni)
    {
        KernelPath path = vnni ? KernelPath.AvxVnni : KernelPath.Avx2;
        if (!KernelPaths.IsSupported(path)) return; // nothing to run on this CPU
        var rng = new Random(77 + (int)type);
        var act = new QuantizedActivations();
        float* result = stackalloc float[4];
        foreach (int n in new[] { 32, 96, 1536, 8960 })
        {
            long rowBytes = GgmlTypeInfo.RowBytes(type, n);
            byte[][] rows = Enumerable.Range(0, 4).Select(_ => TestBlocks.RandomRow(type, n, rng)).ToArray();
            byte[] all = rows.SelectMany(r => r).ToArray();
            float[] x = TestBlocks.RandomActivations(n, rng);
            fixed (byte* w = all)
            fixed (float* xp = x)
            {
                act.QuantizeQ8(xp, n, 1);
                if (type == GgmlType.Q4_0)
                {
                    if (vnni) DotQ4_0.Dot4Avx<VnniMultiplyAdd>(w, rowBytes, act.Q(0), act.D(0), act.Sum4(0), n / 32, result);
                    else DotQ4_0.Dot4Avx<Avx2MultiplyAdd>(w, rowBytes, act.Q(0), act.D(0), act.Sum4(0), n / 32, result);
                }
                else
                {
                    if (vnni) DotQ8_0.Dot4Avx<VnniMultiplyAdd>(w, rowBytes, act.Q(0), act.D(0), act.Sum4(0), n / 32, result);
                    else DotQ8_0.Dot4Avx<Avx2MultiplyAdd>(w, rowBytes, act.Q(0), act.D(0), act.Sum4(0), n / 32, result);
                }
            }
            for (int r = 0; r < 4; r++)
            {
                float reference = KernelDot(type, KernelPath.Scalar, rows[r], x, act);
                double[] w = TestBlocks.Dequantize(type, rows[r], n);
                double magnitude = 0;
                for (int i = 0; i < n; i++) magnitude += Math.Abs(w[i] * x[i]);
                Assert.True(Math.Abs(result[r] - reference) <= 1e-4 * magnitude + 1e-6,
                    $"{type} {path} n={n} row {r}: {result[r]} vs scalar {reference}");
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FourRowTwoTokenQ4_0KernelMatchesScalarReference(bool vnni)
    {
        KernelPath path = vnni ? KernelPath.AvxVnni : KernelPath.Avx2;
        if (!KernelPaths.IsSupported(path)) return; // nothing to run on this CPU
        var rng = new Random(2024);
        var act = new QuantizedActivations();
        float* r0 = stackalloc float[4];
        float* r1 = stackalloc float[4];
        foreach (int n in new[] { 32, 160, 1536 })
        {
            long rowBytes = GgmlTypeInfo.RowBytes(GgmlType.Q4_0, n);
            byte[][] rows = Enumerable.Range(0, 4).Select(_ => TestBlocks.RandomRow(GgmlType.Q4_0, n, rng)).ToArray();
            byte[] all = rows.SelectMany(r => r).ToArray();
            float[] x = TestBlocks.RandomActivations(n, rng).Concat(TestBlocks.RandomActivations(n, rng)).ToArray();
            fixed (byte* w = all)
            fixed (float* xp = x)
            {
                act.QuantizeQ8(xp, n, 2);
                if (vnni)
                    DotQ4_0.Dot4x2Avx<VnniMultiplyAdd>(w, rowBytes, act.Q(0), act.D(0), act.Sum4(0), act.Q(1), act.D(1), act.Sum4(1), n / 32, r0, r1);
                else
                    DotQ4_0.Dot4x2Avx<Avx2MultiplyAdd>(w, rowBytes, act.Q(0), act.D(0), act.Sum4(0), act.Q(1), act.D(1), act.Sum4(1), n / 32, r0, r1);
            }
            for (int t = 0; t < 2; t++)
            {
                float[] xt = x.AsSpan(t * n, n).ToArray();
                for (int r = 0; r < 4; r++)
                {
                    float got = t == 0 ? r0[r] : r1[r];
                    float reference = KernelDot(GgmlType.Q4_0, KernelPath.Scalar, rows[r], xt, act);
                    double[] w = TestBlocks.Dequantize(GgmlType.Q4_0, rows[r], n);
                    double magnitude = 0;
                    for (int i = 0; i < n; i++) magnitude += Math.Abs(w[i] * xt[i]);
                    Assert.True(Math.Abs(got - reference) <= 1e-4 * magnitude + 1e-6,
                        $"{path} n={n} token {t} row {r}: {got} vs scalar {reference}");
                }
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void EveryFloatWidthMatchesScalarReference(GgmlType type)
    {
        // The dispatcher picks one of the 256/512-bit bodies per machine; check both here.
        var rng = new Random(11);
        foreach (int n in new[] { 1, 15, 16, 31, 32, 33, 100, 1536 })
        {
            byte[] row = TestBlocks.RandomRow(type, n, rng);
            float[] x = TestBlocks.RandomActivations(n, rng);
            double[] w = TestBlocks.Dequantize(type, row, n);
            double magnitude = 0;
            for (int i = 0; i < n; i++) magnitude += Math.Abs(w[i] * x[i]);
            fixed (byte* wp = row)
            fixed (float* xp = x)
            {
                ushort* h = (ushort*)wp;
                bool f16 = type == GgmlType.F16;
                float reference = f16 ? DotF16.DotScalar(h, xp, n) : DotBF16.DotScalar(h, xp, n);
                var results = new List<(string Name, float Value)>
                {
                    ("Vector128", f16 ? DotF16.DotVector128(h, xp, n) : DotBF16.DotVector128(h, xp, n)),
                };
                if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
                    results.Add(("Vector256", f16 ? DotF16.DotVector256(h, xp, n) : DotBF16.DotVector256(h, xp, n)));
                if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
                    results.Add(("Vector512", f16 ? DotF16.DotVector512(h, xp, n) : DotBF16.DotVector512(h, xp, n)));
                foreach (var (name, value) in results)
                    Assert.True(Math.Abs(value - reference) <= 1e-5 * magnitude + 1e-7, $"{type} {name} n={n}: {value} vs {reference}");
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, false)]
    [InlineData(GgmlType.Q4_K, true)]
    [InlineData(GgmlType.Q6_K, false)]
    [InlineData(GgmlType.Q6_K, true)]
    public void OneRowTwoTokenKQuantKernelsMatchScalarReference(GgmlType type, bool vnni)
    {
        KernelPath path = vnni ? KernelPath.AvxVnni : KernelPath.Avx2;
        if (!KernelPaths.IsSupported(path)) return; // nothing to run on this CPU
        var rng = new Random(4242 + (int)type);
        var act = new QuantizedActivations();
        foreach (int n in new[] { 256, 768, 1536 })
        {
            byte[] row = TestBlocks.RandomRow(type, n, rng);
            float[] x = TestBlocks.RandomActivations(n, rng).Concat(TestBlocks.RandomActivations(n, rng)).ToArray();
            float r0, r1;
            fixed (byte* w = row)
            fixed (float* xp = x)
            {
                act.QuantizeQ8K(xp, n, 2);
                Dot1x2Body body = (type, vnni) switch
                {
                    (GgmlType.Q4_K, true) => DotQ4_K.Dot1x2Avx<VnniMultiplyAdd>,
                    (GgmlType.Q4_K, false) => DotQ4_K.Dot1x2Avx<Avx2MultiplyAdd>,
                    (_, true) => DotQ6_K.Dot1x2Avx<VnniMultiplyAdd>,
                    _ => DotQ6_K.Dot1x2Avx<Avx2MultiplyAdd>,
                };
                body(w, act.Q(0), act.D(0), act.BSums(0), act.Q(1), act.D(1), act.BSums(1), n / 256, out r0, out r1);
            }
            double[] wd = TestBlocks.Dequantize(type, row, n);
            for (int t = 0; t < 2; t++)
            {
                float[] xt = x.AsSpan(t * n, n).ToArray();
                float reference = KernelDot(type, KernelPath.Scalar, row, xt, act);
                double magnitude = 0;
                for (int i = 0; i < n; i++) magnitude += Math.Abs(wd[i] * xt[i]) + 64 * Math.Abs(xt[i]) * BlockScaleOf(type, row, i);
                float got = t == 0 ? r0 : r1;
                Assert.True(Math.Abs(got - reference) <= 1e-4 * magnitude + 1e-6, $"{type} {path} n={n} token {t}: {got} vs scalar {reference}");
            }
        }
    }

    private delegate void Dot1x2Body(byte* w, sbyte* xq0, float* xd0, short* xbs0, sbyte* xq1, float* xd1, short* xbs1, int blocks,
        out float r0, out float r1);

    private static double BlockScaleOf(GgmlType type, byte[] row, int i) => type switch
    {
        GgmlType.Q4_0 => Math.Abs(TestBlocks.FromHalf(BitConverter.ToUInt16(row, i / 32 * 18))),
        GgmlType.Q6_K => Math.Abs(TestBlocks.FromHalf(BitConverter.ToUInt16(row, i / 256 * 210 + 208))) * 128,
        GgmlType.Q4_K => Math.Abs(TestBlocks.FromHalf(BitConverter.ToUInt16(row, i / 256 * 144 + 2))) * 64,
        _ => 0,
    };
}
