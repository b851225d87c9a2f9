using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// Q4_K on 512 bits: two neighbouring 8-row groups side by side in one vector (the lower half from
/// group A's record, the upper from group B's), so the 8-row layout serves both widths. As for
/// Q4_0 (DotInterleavedQ4_0.cs), vpmaddubsw replaces the 256-bit vpdpbusd: nibbles times
/// activations cannot saturate, and a lane's 16-bit sum over a sub-block of 32 stays below 30,721.
/// The sub-block scale is then applied by vpmaddwd against the scale repeated in both 16-bit
/// halves of the lane, which also widens the sum: one instruction where the 256-bit body needs a
/// vpmulld. Every row gets the same exact integers and float steps as in the 256-bit tiles, so
/// the two give bit-identical results and mix freely (an odd last group runs on 256 bits). Only
/// prompt tiles use it: for single tokens, reading two records side by side measured slower than
/// one contiguous stream per group (decode is bound by memory, not by instructions).
/// </summary>
internal static unsafe partial class DotInterleaved
{
    /// <summary>True when Q4_K group pairs run on 512-bit vectors (the same switch as Q4_0's).</summary>
    internal static bool Q4_KWide => Q4_0Wide;

    /// <summary>Rows of groups A and B (16) × 4 tokens: y[j] + 0..16 for token j.</summary>
    public static void Tile4Q4_KWide(byte* groupA, byte* groupB, int blocks,
        sbyte* xq0, sbyte* xq1, sbyte* xq2, sbyte* xq3, float* xd0, float* xd1, float* xd2, float* xd3,
        short* xs0, short* xs1, short* xs2, short* xs3, float* y0, float* y1, float* y2, float* y3)
    {
        var mask = Vector512.Create((byte)0x0F);
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default;
        byte* a = groupA, b = groupB;
        for (int s = 0; s < blocks; s++, a += InterleavedWeights.Q4_KRecordBytes, b += InterleavedWeights.Q4_KRecordBytes)
        {
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            int o = 256 * s;
            for (int j = 0; j < 4; j++)
            {
                int q = InterleavedWeights.Q4_KQuantOffset + 256 * j;
                var c0 = Pair(a + q, b + q);
                var c1 = Pair(a + q + 32, b + q + 32);
                var c2 = Pair(a + q + 64, b + q + 64);
                var c3 = Pair(a + q + 96, b + q + 96);
                var c4 = Pair(a + q + 128, b + q + 128);
                var c5 = Pair(a + q + 160, b + q + 160);
                var c6 = Pair(a + q + 192, b + q + 192);
                var c7 = Pair(a + q + 224, b + q + 224);
                // Sub-block 2j: the low nibbles.
                var sc = SubBlockScales(a + 32 + 16 * j, b + 32 + 16 * j);
                var w0 = c0 & mask;
                var w1 = c1 & mask;
                var w2 = c2 & mask;
                var w3 = c3 & mask;
                var w4 = c4 & mask;
                var w5 = c5 & mask;
                var w6 = c6 & mask;
                var w7 = c7 & mask;
                int ox = o + 64 * j;
                i0 = SubBlockQ4_KWide(xq0 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i0);
                i1 = SubBlockQ4_KWide(xq1 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i1);
                i2 = SubBlockQ4_KWide(xq2 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i2);
                i3 = SubBlockQ4_KWide(xq3 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i3);
                // Sub-block 2j+1: the high nibbles.
                sc = SubBlockScales(a + 40 + 16 * j, b + 40 + 16 * j);
                w0 = High(c0, mask);
                w1 = High(c1, mask);
                w2 = High(c2, mask);
                w3 = High(c3, mask);
                w4 = High(c4, mask);
                w5 = High(c5, mask);
                w6 = High(c6, mask);
                w7 = High(c7, mask);
                ox += 32;
                i0 = SubBlockQ4_KWide(xq0 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i0);
                i1 = SubBlockQ4_KWide(xq1 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i1);
                i2 = SubBlockQ4_KWide(xq2 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i2);
                i3 = SubBlockQ4_KWide(xq3 + ox, w0, w1, w2, w3, w4, w5, w6, w7, sc, i3);
            }
            var d = Vector512.Create(Scales(a), Scales(b));
            var dmin = Vector512.Create(Scales(a + 16), Scales(b + 16));
            var m0 = Mins(a + 96, b + 96);
            var m1 = Mins(a + 112, b + 112);
            var m2 = Mins(a + 128, b + 128);
            var m3 = Mins(a + 144, b + 144);
            f0 = FinishQ4_KWide(i0, xs0 + 8 * s, xd0[s], d, dmin, m0, m1, m2, m3, f0);
            f1 = FinishQ4_KWide(i1, xs1 + 8 * s, xd1[s], d, dmin, m0, m1, m2, m3, f1);
            f2 = FinishQ4_KWide(i2, xs2 + 8 * s, xd2[s], d, dmin, m0, m1, m2, m3, f2);
            f3 = FinishQ4_KWide(i3, xs3 + 8 * s, xd3[s], d, dmin, m0, m1, m2, m3, f3);
        }
        f0.Store(y0);
        f1.Store(y1);
        f2.Store(y2);
        f3.Store(y3);
    }

    /// <summary>One sub-block of 32 for 16 rows: the 16-bit nibble sums, times the scale and widened by vpmaddwd, added to isum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SubBlockQ4_KWide(sbyte* x, Vector512<byte> w0, Vector512<byte> w1, Vector512<byte> w2, Vector512<byte> w3,
        Vector512<byte> w4, Vector512<byte> w5, Vector512<byte> w6, Vector512<byte> w7, Vector512<short> scale, Vector512<int> isum) =>
        isum + Avx512BW.MultiplyAddAdjacent(NibbleDotWide(x, w0, w1, w2, w3, w4, w5, w6, w7), scale);

    /// <summary>As FinishQ4_K for 16 rows: d·dx·isum − dmin·dx·Σ_s m_s·Σx_s, the same float steps per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FinishQ4_KWide(Vector512<int> isum, short* sums32, float dx, Vector512<float> d, Vector512<float> dmin,
        Vector512<short> m0, Vector512<short> m1, Vector512<short> m2, Vector512<short> m3, Vector512<float> acc)
    {
        var mins = Avx512BW.MultiplyAddAdjacent(m0, Vector512.Create(*(int*)sums32).AsInt16());
        mins += Avx512BW.MultiplyAddAdjacent(m1, Vector512.Create(*(int*)(sums32 + 2)).AsInt16());
        mins += Avx512BW.MultiplyAddAdjacent(m2, Vector512.Create(*(int*)(sums32 + 4)).AsInt16());
        mins += Avx512BW.MultiplyAddAdjacent(m3, Vector512.Create(*(int*)(sums32 + 6)).AsInt16());
        var vdx = Vector512.Create(dx);
        acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), d * vdx, acc);
        return Avx512F.FusedMultiplyAddNegated(Avx512F.ConvertToVector512Single(mins), dmin * vdx, acc);
    }

    /// <summary>32 bytes of group A's record and the same 32 of group B's, as one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Pair(byte* a, byte* b) => Vector512.Create(Vector256.Load(a), Vector256.Load(b));

    /// <summary>16 bytes of mins (pairs of sub-blocks) of each group, widened to shorts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Mins(byte* a, byte* b) => Vector512.Create(Avx2.ConvertToVector256Int16(a), Avx2.ConvertToVector256Int16(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> High(Vector512<byte> c, Vector512<byte> mask) => Vector512.ShiftRightLogical(c.AsUInt16(), 4).AsByte() & mask;

    /// <summary>The 8 sub-block scales (bytes) of each group for one sub-block, each in both 16-bit halves of its row's lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> SubBlockScales(byte* a, byte* b)
    {
        var s = Vector512.Create(Avx2.ConvertToVector256Int32(a), Avx2.ConvertToVector256Int32(b));
        return (s | Vector512.ShiftLeft(s, 16)).AsInt16();
    }
}
