using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// Products of interleaved weight rows (<see cref="InterleavedWeights"/>: Q8_0 and Q4_K blocks of 8
/// rows side by side, one row per int lane; Q4_0 in groups of 16, see DotInterleavedQ4_0.cs) with Q8
/// activations. Each 4-byte activation group is broadcast to all lanes and meets the 4 matching
/// bytes of each of the 8 rows in one vpdpbusd, so the integer work is one instruction per 32
/// multiply-adds with no horizontal sums, and the 8 results of a block land in one vector that is
/// scaled and accumulated in float once per block. A tile of 4 tokens unpacks each weight vector
/// once for all 4, which is what makes prompt processing compute-bound rather than unpack-bound.
/// Weight bytes are unsigned (Q4_0 nibbles 0..15, Q8_0 bytes stored as q+128), so each block
/// starts its integer sum at −offset·Σq_x (offset 8 or 128) to remove the bias exactly.
/// </summary>
internal static unsafe partial class DotInterleaved
{
    /// <summary>RETORT_INTERLEAVE_Q4K=0 keeps Q4_K in the file layout (its row kernels are already 2-token).</summary>
    private static readonly bool Q4_KInterleaved = Environment.GetEnvironmentVariable("RETORT_INTERLEAVE_Q4K") != "0";

    /// <summary>Tokens per tile in <see cref="Tile4"/>.</summary>
    public const int TileTokens = 4;

    /// <summary>
    /// y[j][0..GroupRows) = rows of group · token j, for j &lt; tokens (≤ 4), the reference for every
    /// path: plain loops over the packed layout, the offset removed per product.
    /// </summary>
    public static void TileScalar(InterleavedFormat format, byte* group, int blocks, sbyte** xq, float** xd, int tokens, float** y)
    {
        if (format == InterleavedFormat.Q4_K)
        {
            TileScalarQ4_K(group, blocks, xq, xd, tokens, y);
            return;
        }
        for (int j = 0; j < tokens; j++)
        {
            for (int r = 0; r < InterleavedWeights.RowsPerGroup(format); r++)
            {
                float sum = 0;
                for (int b = 0; b < blocks; b++)
                {
                    float dw = HalfConversion.HalfToSingle(InterleavedWeights.ScaleBits(format, group, blocks, b, r));
                    sbyte* x = xq[j] + 32 * b;
                    int isum = 0;
                    for (int k = 0; k < 32; k++) isum += InterleavedWeights.Weight(format, group, blocks, b, r, k) * x[k];
                    sum += dw * xd[j][b] * isum;
                }
                y[j][r] = sum;
            }
        }
    }

    /// <summary>Q4_K: y = Σ_blocks dx·(d·Σ_s sc_s·Σ q·x − dmin·Σ_s m_s·Σ x), every sum taken directly.</summary>
    private static void TileScalarQ4_K(byte* group, int blocks, sbyte** xq, float** xd, int tokens, float** y)
    {
        for (int j = 0; j < tokens; j++)
        {
            for (int r = 0; r < 8; r++)
            {
                float sum = 0;
                for (int b = 0; b < blocks; b++)
                {
                    byte* rec = group + (long)b * InterleavedWeights.Q4_KRecordBytes;
                    sbyte* x = xq[j] + 256 * b;
                    int scaled = 0, mins = 0;
                    for (int sb = 0; sb < 8; sb++)
                    {
                        int dot = 0, xs = 0;
                        for (int e = 0; e < 32; e++)
                        {
                            dot += InterleavedWeights.Weight(InterleavedFormat.Q4_K, group, blocks, b, r, 32 * sb + e) * x[32 * sb + e];
                            xs += x[32 * sb + e];
                        }
                        scaled += InterleavedWeights.Q4_KScale(rec, r, sb) * dot;
                        mins += InterleavedWeights.Q4_KMin(rec, r, sb) * xs;
                    }
                    float d = HalfConversion.HalfToSingle(((ushort*)rec)[r]);
                    float dmin = HalfConversion.HalfToSingle(((ushort*)rec)[8 + r]);
                    sum += xd[j][b] * (d * scaled - dmin * mins);
                }
                y[j][r] = sum;
            }
        }
    }

    /// <summary>True when the 256-bit tiles run on this CPU for weights of this format.</summary>
    public static bool IsSupported(InterleavedFormat format) => format switch
    {
        // vpmaddubsw would saturate on Q8_0's full byte range: Q8_0 needs true VNNI.
        InterleavedFormat.Q8_0 => KernelPaths.Best == KernelPath.AvxVnni,
        InterleavedFormat.Q4_K => Q4_KInterleaved && KernelPaths.Best is KernelPath.AvxVnni or KernelPath.Avx2,
        _ => KernelPaths.Best is KernelPath.AvxVnni or KernelPath.Avx2,
    };

    /// <summary>A group's rows × 4 tokens: y[j] + 0..GroupRows for token j (xq, xd, xsum: that token's activations).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile4(InterleavedFormat format, byte* group, int blocks,
        sbyte* xq0, sbyte* xq1, sbyte* xq2, sbyte* xq3, float* xd0, float* xd1, float* xd2, float* xd3,
        int* xs0, int* xs1, int* xs2, int* xs3, float* y0, float* y1, float* y2, float* y3)
    {
        if (format == InterleavedFormat.Q4_0)
        {
            Tile4Q4_0(group, blocks, xq0, xq1, xq2, xq3, xd0, xd1, xd2, xd3, xs0, xs1, xs2, xs3, y0, y1, y2, y3);
        }
        else
        {
            Tile4Q8_0(group, blocks, xq0, xq1, xq2, xq3, xd0, xd1, xd2, xd3, xs0, xs1, xs2, xs3, y0, y1, y2, y3);
        }
    }

    /// <summary>A group's rows × 1 token (decode, and the tokens left over from 4-token tiles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile1(InterleavedFormat format, byte* group, int blocks, sbyte* xq, float* xd, int* xs, float* y)
    {
        if (format == InterleavedFormat.Q4_0)
        {
            Tile1Q4_0(group, blocks, xq, xd, xs, y);
        }
        else
        {
            Tile1Q8_0(group, blocks, xq, xd, xs, y);
        }
    }

    public static void Tile4Q8_0(byte* group, int blocks,
        sbyte* xq0, sbyte* xq1, sbyte* xq2, sbyte* xq3, float* xd0, float* xd1, float* xd2, float* xd3,
        int* xs0, int* xs1, int* xs2, int* xs3, float* y0, float* y1, float* y2, float* y3)
    {
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        byte* rec = group;
        for (int b = 0; b < blocks; b++, rec += InterleavedWeights.Q8_0RecordBytes)
        {
            byte* ahead = rec + 3 * InterleavedWeights.Q8_0RecordBytes;
            Sse.Prefetch0(ahead);
            Sse.Prefetch0(ahead + 64);
            Sse.Prefetch0(ahead + 128);
            Sse.Prefetch0(ahead + 192);
            Sse.Prefetch0(ahead + 256);
            var dw = Scales(rec);
            byte* q = rec + 16;
            int o = 32 * b;
            f0 = BlockQ8_0(q, xq0 + o, -128 * xs0[b], xd0[b], dw, f0);
            f1 = BlockQ8_0(q, xq1 + o, -128 * xs1[b], xd1[b], dw, f1);
            f2 = BlockQ8_0(q, xq2 + o, -128 * xs2[b], xd2[b], dw, f2);
            f3 = BlockQ8_0(q, xq3 + o, -128 * xs3[b], xd3[b], dw, f3);
        }
        f0.Store(y0);
        f1.Store(y1);
        f2.Store(y2);
        f3.Store(y3);
    }

    public static void Tile1Q8_0(byte* group, int blocks, sbyte* xq, float* xd, int* xs, float* y)
    {
        Vector256<float> f = default;
        byte* rec = group;
        for (int b = 0; b < blocks; b++, rec += InterleavedWeights.Q8_0RecordBytes)
        {
            byte* ahead = rec + 4 * InterleavedWeights.Q8_0RecordBytes;
            for (int p = 0; p < InterleavedWeights.Q8_0RecordBytes; p += 64) Sse.Prefetch0(ahead + p);
            f = BlockQ8_0(rec + 16, xq + 32 * b, -128 * xs[b], xd[b], Scales(rec), f);
        }
        f.Store(y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> BlockQ8_0(byte* q, sbyte* x, int offset, float dx, Vector256<float> dw, Vector256<float> acc)
    {
        var a = AvxVnni.MultiplyWideningAndAdd(Vector256.Create(offset), Vector256.Load(q), Broadcast4(x));
        var c = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Vector256.Load(q + 32), Broadcast4(x + 4));
        a = AvxVnni.MultiplyWideningAndAdd(a, Vector256.Load(q + 64), Broadcast4(x + 8));
        c = AvxVnni.MultiplyWideningAndAdd(c, Vector256.Load(q + 96), Broadcast4(x + 12));
        a = AvxVnni.MultiplyWideningAndAdd(a, Vector256.Load(q + 128), Broadcast4(x + 16));
        c = AvxVnni.MultiplyWideningAndAdd(c, Vector256.Load(q + 160), Broadcast4(x + 20));
        a = AvxVnni.MultiplyWideningAndAdd(a, Vector256.Load(q + 192), Broadcast4(x + 24));
        c = AvxVnni.MultiplyWideningAndAdd(c, Vector256.Load(q + 224), Broadcast4(x + 28));
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(a + c), dw * Vector256.Create(dx), acc);
    }

    /// <summary>Q4_K, 8 rows × 4 tokens; xs: each token's per-32 activation sums (Q8K).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile4Q4_K(byte* group, int blocks,
        sbyte* xq0, sbyte* xq1, sbyte* xq2, sbyte* xq3, float* xd0, float* xd1, float* xd2, float* xd3,
        short* xs0, short* xs1, short* xs2, short* xs3, float* y0, float* y1, float* y2, float* y3)
    {
        if (KernelPaths.Best == KernelPath.AvxVnni)
            Tile4Q4_K<VnniMultiplyAdd>(group, blocks, xq0, xq1, xq2, xq3, xd0, xd1, xd2, xd3, xs0, xs1, xs2, xs3, y0, y1, y2, y3);
        else
            Tile4Q4_K<Avx2MultiplyAdd>(group, blocks, xq0, xq1, xq2, xq3, xd0, xd1, xd2, xd3, xs0, xs1, xs2, xs3, y0, y1, y2, y3);
    }

    /// <summary>Q4_K, 8 rows × 1 token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile1Q4_K(byte* group, int blocks, sbyte* xq, float* xd, short* xs, float* y)
    {
        if (KernelPaths.Best == KernelPath.AvxVnni) Tile1Q4_K<VnniMultiplyAdd>(group, blocks, xq, xd, xs, y);
        else Tile1Q4_K<Avx2MultiplyAdd>(group, blocks, xq, xd, xs, y);
    }

    public static void Tile4Q4_K<T>(byte* group, int blocks,
        sbyte* xq0, sbyte* xq1, sbyte* xq2, sbyte* xq3, float* xd0, float* xd1, float* xd2, float* xd3,
        short* xs0, short* xs1, short* xs2, short* xs3, float* y0, float* y1, float* y2, float* y3) where T : struct, IByteMultiplyAdd
    {
        var mask = Vector256.Create((byte)0x0F);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        byte* rec = group;
        for (int b = 0; b < blocks; b++, rec += InterleavedWeights.Q4_KRecordBytes)
        {
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            int o = 256 * b;
            for (int j = 0; j < 4; j++)
            {
                byte* q = rec + InterleavedWeights.Q4_KQuantOffset + 256 * j;
                var c0 = Vector256.Load(q);
                var c1 = Vector256.Load(q + 32);
                var c2 = Vector256.Load(q + 64);
                var c3 = Vector256.Load(q + 96);
                var c4 = Vector256.Load(q + 128);
                var c5 = Vector256.Load(q + 160);
                var c6 = Vector256.Load(q + 192);
                var c7 = Vector256.Load(q + 224);
                // Sub-block 2j: the low nibbles.
                var sc = Avx2.ConvertToVector256Int32(rec + 32 + 16 * j);
                var w0 = c0 & mask;
                var w1 = c1 & mask;
                var w2 = c2 & mask;
                var w3 = c3 & mask;
                var w4 = c4 & mask;
                var w5 = c5 & mask;
                var w6 = c6 & mask;
                var w7 = c7 & mask;
                int ox = o + 64 * j;
                i0 = SubBlockQ4_K<T>(xq0 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i0);
                i1 = SubBlockQ4_K<T>(xq1 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i1);
                i2 = SubBlockQ4_K<T>(xq2 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i2);
                i3 = SubBlockQ4_K<T>(xq3 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i3);
                // Sub-block 2j+1: the high nibbles.
                sc = Avx2.ConvertToVector256Int32(rec + 40 + 16 * j);
                w0 = Vector256.ShiftRightLogical(c0.AsUInt16(), 4).AsByte() & mask;
                w1 = Vector256.ShiftRightLogical(c1.AsUInt16(), 4).AsByte() & mask;
                w2 = Vector256.ShiftRightLogical(c2.AsUInt16(), 4).AsByte() & mask;
                w3 = Vector256.ShiftRightLogical(c3.AsUInt16(), 4).AsByte() & mask;
                w4 = Vector256.ShiftRightLogical(c4.AsUInt16(), 4).AsByte() & mask;
                w5 = Vector256.ShiftRightLogical(c5.AsUInt16(), 4).AsByte() & mask;
                w6 = Vector256.ShiftRightLogical(c6.AsUInt16(), 4).AsByte() & mask;
                w7 = Vector256.ShiftRightLogical(c7.AsUInt16(), 4).AsByte() & mask;
                ox += 32;
                i0 = SubBlockQ4_K<T>(xq0 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i0);
                i1 = SubBlockQ4_K<T>(xq1 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i1);
                i2 = SubBlockQ4_K<T>(xq2 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i2);
                i3 = SubBlockQ4_K<T>(xq3 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i3);
            }
            var d = Scales(rec);
            var dmin = Scales(rec + 16);
            var m0 = Avx2.ConvertToVector256Int16(rec + 96);
            var m1 = Avx2.ConvertToVector256Int16(rec + 112);
            var m2 = Avx2.ConvertToVector256Int16(rec + 128);
            var m3 = Avx2.ConvertToVector256Int16(rec + 144);
            f0 = FinishQ4_K<T>(i0, xs0 + 8 * b, xd0[b], d, dmin, m0, m1, m2, m3, f0);
            f1 = FinishQ4_K<T>(i1, xs1 + 8 * b, xd1[b], d, dmin, m0, m1, m2, m3, f1);
            f2 = FinishQ4_K<T>(i2, xs2 + 8 * b, xd2[b], d, dmin, m0, m1, m2, m3, f2);
            f3 = FinishQ4_K<T>(i3, xs3 + 8 * b, xd3[b], d, dmin, m0, m1, m2, m3, f3);
        }
        f0.Store(y0);
        f1.Store(y1);
        f2.Store(y2);
        f3.Store(y3);
    }

    public static void Tile1Q4_K<T>(byte* group, int blocks, sbyte* xq, float* xd, short* xs, float* y) where T : struct, IByteMultiplyAdd
    {
        var mask = Vector256.Create((byte)0x0F);
        Vector256<float> f = default;
        byte* rec = group;
        for (int b = 0; b < blocks; b++, rec += InterleavedWeights.Q4_KRecordBytes)
        {
            byte* ahead = rec + 2 * InterleavedWeights.Q4_KRecordBytes;
            for (int p = 0; p < InterleavedWeights.Q4_KRecordBytes; p += 64) Sse.Prefetch0(ahead + p);
            Vector256<int> isum = default;
            for (int j = 0; j < 4; j++)
            {
                byte* q = rec + InterleavedWeights.Q4_KQuantOffset + 256 * j;
                var c0 = Vector256.Load(q);
                var c1 = Vector256.Load(q + 32);
                var c2 = Vector256.Load(q + 64);
                var c3 = Vector256.Load(q + 96);
                var c4 = Vector256.Load(q + 128);
                var c5 = Vector256.Load(q + 160);
                var c6 = Vector256.Load(q + 192);
                var c7 = Vector256.Load(q + 224);
                sbyte* x = xq + 256 * b + 64 * j;
                isum = SubBlockQ4_K<T>(x, c0 & mask, c1 & mask, c2 & mask, c3 & mask, c4 & mask, c5 & mask, c6 & mask, c7 & mask,
                    Avx2.ConvertToVector256Int32(rec + 32 + 16 * j), isum);
                isum = SubBlockQ4_K<T>(x + 32,
                    Vector256.ShiftRightLogical(c0.AsUInt16(), 4).AsByte() & mask, Vector256.ShiftRightLogical(c1.AsUInt16(), 4).AsByte() & mask,
                    Vector256.ShiftRightLogical(c2.AsUInt16(), 4).AsByte() & mask, Vector256.ShiftRightLogical(c3.AsUInt16(), 4).AsByte() & mask,
                    Vector256.ShiftRightLogical(c4.AsUInt16(), 4).AsByte() & mask, Vector256.ShiftRightLogical(c5.AsUInt16(), 4).AsByte() & mask,
                    Vector256.ShiftRightLogical(c6.AsUInt16(), 4).AsByte() & mask, Vector256.ShiftRightLogical(c7.AsUInt16(), 4).AsByte() & mask,
                    Avx2.ConvertToVector256Int32(rec + 40 + 16 * j), isum);
            }
            f = FinishQ4_K<T>(isum, xs + 8 * b, xd[b], Scales(rec), Scales(rec + 16),
                Avx2.ConvertToVector256Int16(rec + 96), Avx2.ConvertToVector256Int16(rec + 112),
                Avx2.ConvertToVector256Int16(rec + 128), Avx2.ConvertToVector256Int16(rec + 144), f);
        }
        f.Store(y);
    }

    /// <summary>One sub-block of 32 for 8 rows: Σ nibble·x, times each row's scale, added to isum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> SubBlockQ4_K<T>(sbyte* x, Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, Vector256<int> scale, Vector256<int> isum)
        where T : struct, IByteMultiplyAdd =>
        isum + Avx2.MultiplyLow(NibbleDot<T>(Vector256<int>.Zero, x, w0, w1, w2, w3, w4, w5, w6, w7), scale);

    /// <summary>
    /// start + Σ_k w_k·x[4k..4k+4) per int lane (one row per lane, 32 bytes of x): the integer core of the
    /// Q4_0 and Q4_K tiles, in two independent chains so consecutive multiply-adds do not wait on each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> NibbleDot<T>(Vector256<int> start, sbyte* x, Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2,
        Vector256<byte> w3, Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7)
        where T : struct, IByteMultiplyAdd
    {
        var a = T.MulAdd(start, w0, Broadcast4(x));
        var c = T.MulAdd(Vector256<int>.Zero, w1, Broadcast4(x + 4));
        a = T.MulAdd(a, w2, Broadcast4(x + 8));
        c = T.MulAdd(c, w3, Broadcast4(x + 12));
        a = T.MulAdd(a, w4, Broadcast4(x + 16));
        c = T.MulAdd(c, w5, Broadcast4(x + 20));
        a = T.MulAdd(a, w6, Broadcast4(x + 24));
        c = T.MulAdd(c, w7, Broadcast4(x + 28));
        return a + c;
    }

    /// <summary>Scales a super-block's integer sums by d·dx and subtracts dmin·dx·Σ_s m_s·Σx_s (pairs of sub-blocks per vpmaddwd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> FinishQ4_K<T>(Vector256<int> isum, short* sums32, float dx, Vector256<float> d, Vector256<float> dmin,
        Vector256<short> m0, Vector256<short> m1, Vector256<short> m2, Vector256<short> m3, Vector256<float> acc)
        where T : struct, IByteMultiplyAdd
    {
        var mins = T.MulAddPairs(Vector256<int>.Zero, m0, Vector256.Create(*(int*)sums32).AsInt16());
        mins = T.MulAddPairs(mins, m1, Vector256.Create(*(int*)(sums32 + 2)).AsInt16());
        mins = T.MulAddPairs(mins, m2, Vector256.Create(*(int*)(sums32 + 4)).AsInt16());
        mins = T.MulAddPairs(mins, m3, Vector256.Create(*(int*)(sums32 + 6)).AsInt16());
        var vdx = Vector256.Create(dx);
        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), d * vdx, acc);
        return Fma.MultiplyAddNegated(Avx.ConvertToVector256Single(mins), dmin * vdx, acc);
    }

    /// <summary>4 activation bytes repeated in every int lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast4(sbyte* x) => Vector256.Create(*(int*)x).AsSByte();

    /// <summary>The 8 f16 row scales of a record as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Scales(byte* rec) =>
        HalfConversion.HalfToSingle(Avx2.ConvertToVector256Int32((ushort*)rec).AsUInt32());
}
