using Retort.Engine.Kernels;
using Retort.Engine.Model;

namespace Retort.Engine.Tests.Kernels;

/// <summary>
/// The flash-attention tile against its scalar reference (state carried over several tiles, with
/// and without the causal mask), and a whole run against attention computed the textbook way in
/// double precision (every score, then softmax, then the weighted sum).
/// </summary>
public sealed unsafe class FlashAttentionTests
{
    private static float[] Random(Random r, int n, float scale = 1f) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * scale).ToArray();

    public static TheoryData<int, int, int> Shapes() => new()
    {
        // head dim, query vectors, keys
        { 128, 6, 100 }, { 128, 1, 33 }, { 128, 48, 70 }, { 64, 16, 64 }, { 64, 12, 5 }, { 16, 4, 40 }, { 16, 24, 31 }, { 128, 30, 96 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void VectorTileMatchesTheScalarReference(int hd, int queries, int keys)
    {
        var r = new Random(hd * 1000 + queries * 10 + keys);
        int mPad = FlashAttention.PaddedQueries(queries);
        float[] qt = new float[hd * mPad];
        float[] q = Random(r, queries * hd, 0.3f);
        for (int i = 0; i < queries; i++)
            for (int d = 0; d < hd; d++) qt[d * mPad + i] = q[i * hd + d];
        // Query vectors at spread positions, so the causal mask cuts tiles in different places.
        float[] qpos = Enumerable.Range(0, mPad).Select(i => i < queries ? (float)(keys - 1 - i * 3 % keys) : -1f).ToArray();
        float[] k = Random(r, keys * hd), v = Random(r, keys * hd);
        foreach (bool causal in new[] { false, true })
        {
            var (m1, l1, o1) = RunTiles(qt, qpos, queries, mPad, hd, k, v, keys, causal, scalar: false);
            var (m2, l2, o2) = RunTiles(qt, qpos, queries, mPad, hd, k, v, keys, causal, scalar: true);
            for (int i = 0; i < queries; i++)
            {
                Assert.True(Math.Abs(m1[i] - m2[i]) <= 1e-5f * Math.Max(1, Math.Abs(m2[i])), $"m[{i}] {m1[i]} vs {m2[i]}");
                Assert.True(Math.Abs(l1[i] - l2[i]) <= 1e-4f * Math.Max(1, l2[i]), $"l[{i}] {l1[i]} vs {l2[i]}");
            }
            for (int i = 0; i < queries * hd; i++)
                Assert.True(Math.Abs(o1[i] - o2[i]) <= 1e-4f * Math.Max(1, Math.Abs(o2[i])), $"o[{i}] {o1[i]} vs {o2[i]} (causal {causal})");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OnePassEqualsTextbookAttention(int hd, int queries, int keys)
    {
        var r = new Random(7 + hd + queries + keys);
        int mPad = FlashAttention.PaddedQueries(queries);
        float[] q = Random(r, queries * hd, 0.5f), k = Random(r, keys * hd), v = Random(r, keys * hd);
        float[] qt = new float[hd * mPad];
        for (int i = 0; i < queries; i++)
            for (int d = 0; d < hd; d++) qt[d * mPad + i] = q[i * hd + d];
        float[] qpos = Enumerable.Range(0, mPad).Select(i => i < queries ? (float)(keys - 1 - i % keys) : -1f).ToArray();
        var (_, l, o) = RunTiles(qt, qpos, queries, mPad, hd, k, v, keys, causal: true, scalar: false);
        fixed (float* pl = l, po = o) FlashAttention.Finish(pl, po, queries, hd);
        for (int i = 0; i < queries; i++)
        {
            int visible = (int)qpos[i] + 1;
            double[] s = new double[visible];
            for (int j = 0; j < visible; j++)
                for (int d = 0; d < hd; d++) s[j] += (double)q[i * hd + d] * k[j * hd + d];
            double max = s.Max(), sum = s.Sum(x => Math.Exp(x - max));
            for (int d = 0; d < hd; d++)
            {
                double expected = 0;
                for (int j = 0; j < visible; j++) expected += Math.Exp(s[j] - max) / sum * v[j * hd + d];
                Assert.True(Math.Abs(o[i * hd + d] - expected) < 2e-5, $"query {i}, d {d}: {o[i * hd + d]} vs {expected}");
            }
        }
    }

    [Theory]
    [InlineData(128, 6, 100)]
    [InlineData(128, 1, 37)]
    [InlineData(64, 2, 64)]
    [InlineData(64, 8, 3)]
    [InlineData(16, 4, 45)]
    [InlineData(12, 3, 40)]
    public void RowMajorTileMatchesTheReferenceAndTheTransposedTile(int hd, int queries, int keys)
    {
        var r = new Random(hd + 31 * queries + keys);
        int mPad = FlashAttention.PaddedQueries(queries);
        float[] q = Random(r, queries * hd, 0.3f), k = Random(r, keys * hd), v = Random(r, keys * hd);
        float[] qt = new float[hd * mPad];
        for (int i = 0; i < queries; i++)
            for (int d = 0; d < hd; d++) qt[d * mPad + i] = q[i * hd + d];
        float[] qpos = Enumerable.Range(0, mPad).Select(i => i < queries ? (float)(keys - 1 - 5 * i % keys) : -1f).ToArray();
        var rows = RunTiles(q, qpos, queries, mPad, hd, k, v, keys, causal: true, body: Body.Rows);
        var reference = RunTiles(q, qpos, queries, mPad, hd, k, v, keys, causal: true, body: Body.RowsScalar);
        var transposed = RunTiles(qt, qpos, queries, mPad, hd, k, v, keys, causal: true, body: Body.Vector);
        foreach (var other in new[] { reference, transposed })
        {
            for (int i = 0; i < queries; i++) Assert.True(Math.Abs(rows.L[i] - other.L[i]) <= 1e-4f * Math.Max(1, other.L[i]), $"l[{i}]");
            for (int i = 0; i < queries * hd; i++)
                Assert.True(Math.Abs(rows.O[i] - other.O[i]) <= 1e-4f * Math.Max(1, Math.Abs(other.O[i])), $"o[{i}] {rows.O[i]} vs {other.O[i]}");
        }
    }

    [Fact]
    public void MaskedKeysNeverLeakEvenWhenTheirRowsHoldGarbage()
    {
        // Rows past a query's position may be unwritten memory: NaN there must not reach the output.
        const int hd = 64, queries = 6, keys = 32;
        var r = new Random(3);
        int mPad = FlashAttention.PaddedQueries(queries);
        float[] qt = Random(r, hd * mPad), k = Random(r, keys * hd), v = Random(r, keys * hd);
        float[] qpos = Enumerable.Range(0, mPad).Select(i => i < queries ? 9f : -1f).ToArray();
        float[] kClean = (float[])k.Clone(), vClean = (float[])v.Clone();
        for (int j = 10; j < keys; j++)
            for (int d = 0; d < hd; d++) k[j * hd + d] = float.NaN;
        var (_, l, o) = RunTiles(qt, qpos, queries, mPad, hd, k, vClean, keys, causal: true, scalar: false);
        var (_, l2, o2) = RunTiles(qt, qpos, queries, mPad, hd, kClean, vClean, keys, causal: true, scalar: false);
        Assert.All(o, x => Assert.True(float.IsFinite(x)));
        Assert.Equal(o2, o);
        Assert.Equal(l2.Take(queries), l.Take(queries));
    }

    private enum Body { Vector, Scalar, Rows, RowsScalar }

    private static (float[] M, float[] L, float[] O) RunTiles(float[] qt, float[] qpos, int queries, int mPad, int hd, float[] k, float[] v, int keys,
        bool causal, bool scalar) => RunTiles(qt, qpos, queries, mPad, hd, k, v, keys, causal, scalar ? Body.Scalar : Body.Vector);

    private static (float[] M, float[] L, float[] O) RunTiles(float[] qt, float[] qpos, int queries, int mPad, int hd, float[] k, float[] v, int keys,
        bool causal, Body body)
    {
        float[] mx = new float[mPad], l = new float[mPad], o = new float[queries * hd];
        float[] s = new float[FlashAttention.TileKeys * mPad], corr = new float[mPad];
        fixed (float* pq = qt, pp = qpos, pk = k, pv = v, pm = mx, pl = l, po = o, ps = s, pc = corr)
        {
            FlashAttention.Begin(pm, pl, po, queries, mPad, hd);
            for (int p = 0; p < keys; p += FlashAttention.TileKeys)
            {
                int t = Math.Min(FlashAttention.TileKeys, keys - p);
                float* kp = pk + (long)p * hd, vp = pv + (long)p * hd;
                switch (body)
                {
                    case Body.Scalar: FlashAttention.TileScalar(pq, pp, queries, mPad, hd, kp, vp, t, p, causal, pm, pl, po, ps, pc); break;
                    case Body.Rows: FlashAttention.TileRows(pq, pp, queries, mPad, hd, kp, vp, t, p, causal, pm, pl, po, ps, pc); break;
                    case Body.RowsScalar: FlashAttention.TileRowsScalar(pq, pp, queries, mPad, hd, kp, vp, t, p, causal, pm, pl, po, ps, pc); break;
                    default: FlashAttention.Tile(pq, pp, queries, mPad, hd, kp, vp, t, p, causal, pm, pl, po, ps, pc); break;
                }
            }
        }
        return (mx, l, o);
    }

    [Theory]
    [InlineData(KvCacheType.F32)]
    [InlineData(KvCacheType.F16)]
    [InlineData(KvCacheType.BF16)]
    [InlineData(KvCacheType.Q8_0)]
    [InlineData(KvCacheType.Q4_0)]
    public void RowDecoderIsBitIdenticalToGgmlsDequantization(KvCacheType type)
    {
        const int hd = 128, rows = 32;
        var r = new Random((int)type + 11);
        int rowBytes = KvCacheFormat.RowBytes(type, hd);
        byte[] bytes = new byte[rows * rowBytes];
        float[] src = Random(r, hd, 3f);
        for (int row = 0; row < rows; row++)
        {
            for (int i = 0; i < hd; i++) src[i] = (float)(r.NextDouble() * 2 - 1) * (row + 1);
            Retort.Engine.Quantization.Quantize.Row(KvCacheFormat.BlockType(type), src, bytes.AsSpan(row * rowBytes, rowBytes));
        }
        float[] reference = new float[rows * hd];
        fixed (byte* pb = bytes)
        fixed (float* pr = reference)
        {
            KvRowDecoder.DecodeScalar(type, pb, rowBytes, rows, hd, pr);
            IntPtr source = (IntPtr)pb;
            var bodies = new List<(string, Action<IntPtr>)> { ("dispatch", p => KvRowDecoder.Decode(type, (byte*)source, rowBytes, rows, hd, (float*)p)) };
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                bodies.Add(("avx2", p => KvRowDecoder.Decode256(type, (byte*)source, rowBytes, rows, hd, (float*)p)));
            if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
                bodies.Add(("avx512", p => KvRowDecoder.Decode512(type, (byte*)source, rows, hd, (float*)p)));
            foreach (var (name, body) in bodies)
            {
                float[] fast = new float[rows * hd];
                fixed (float* pf = fast) body((IntPtr)pf);
                Assert.True(reference.SequenceEqual(fast), $"{name} body differs from the reference");
            }
        }
        Assert.Contains(reference, x => x != 0);
    }
}
