using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// Q4_0 tiles over groups of 16 interleaved rows (<see cref="InterleavedWeights.Q4_0GroupRows"/>):
/// per block, 4 chunks of 64 bytes, chunk c holding bytes 4c..4c+3 of each row's nibbles (low
/// nibbles elements 4c..4c+3, high nibbles 16+4c..), one 32-bit lane per row.
///
/// With AVX-512BW each chunk is one 512-bit vector for all 16 rows. .NET 10 exposes no 512-bit
/// vpdpbusd, but Q4_0 does not need it: nibbles (0..15) times activations (−128..127) make pairs
/// of at most 3,840, so vpmaddubsw never saturates, and the 16-bit sums of one block (16 products
/// per lane, at most 30,720) still fit a short. A block is then 8 vpmaddubsw, 7 vpaddw and one
/// vpmaddwd per token for 16 rows: about half the instructions of 256-bit vpdpbusd per
/// multiply-add, which is what limited the 8-row tiles (docs/kernels.md).
/// Without AVX-512 each group runs as two 8-row halves (the lower and upper 32 bytes of each
/// chunk) on the 256-bit VNNI or AVX2 bodies. Every path computes each row's block sum as the
/// same exact integer and scales it with the same float operations in block order, so all of
/// them, and a row decoded alone or in a batch, give bit-identical results.
/// </summary>
internal static unsafe partial class DotInterleaved
{
    /// <summary>True when Q4_0 groups run as one 512-bit vector of 16 rows (RETORT_AVX512=0 turns it off for comparisons).</summary>
    internal static readonly bool Q4_0Wide = Avx512BW.IsSupported && Vector512.IsHardwareAccelerated
        && KernelPaths.Best is KernelPath.AvxVnni or KernelPath.Avx2
        && Environment.GetEnvironmentVariable("RETORT_AVX512") != "0";

    /// <summary>16 rows × 4 tokens: y[j] + 0..16 for token j.</summary>
    public static void Tile4Q4_0(byte* group, int blocks,
        sbyte* xq0, sbyte* xq1, sbyte* xq2, sbyte* xq3, float* xd0, float* xd1, float* xd2, float* xd3,
        int* xs0, int* xs1, int* xs2, int* xs3, float* y0, float* y1, float* y2, float* y3)
    {
        if (Q4_0Wide)
        {
            Tile4Q4_0Wide(group, blocks, xq0, xq1, xq2, xq3, xd0, xd1, xd2, xd3, xs0, xs1, xs2, xs3, y0, y1, y2, y3);
            return;
        }
        for (int half = 0; half < 2; half++)
        {
            int o = 8 * half;
            if (KernelPaths.Best == KernelPath.AvxVnni)
                Tile4Q4_0Half<VnniMultiplyAdd>(group, blocks, half, xq0, xq1, xq2, xq3, xd0, xd1, xd2, xd3, xs0, xs1, xs2, xs3, y0 + o, y1 + o, y2 + o, y3 + o);
            else
                Tile4Q4_0Half<Avx2MultiplyAdd>(group, blocks, half, xq0, xq1, xq2, xq3, xd0, xd1, xd2, xd3, xs0, xs1, xs2, xs3, y0 + o, y1 + o, y2 + o, y3 + o);
        }
    }

    /// <summary>16 rows × 1 token.</summary>
    public static void Tile1Q4_0(byte* group, int blocks, sbyte* xq, float* xd, int* xs, float* y)
    {
        if (Q4_0Wide)
        {
            Tile1Q4_0Wide(group, blocks, xq, xd, xs, y);
            return;
        }
        for (int half = 0; half < 2; half++)
        {
            if (KernelPaths.Best == KernelPath.AvxVnni) Tile1Q4_0Half<VnniMultiplyAdd>(group, blocks, half, xq, xd, xs, y + 8 * half);
            else Tile1Q4_0Half<Avx2MultiplyAdd>(group, blocks, half, xq, xd, xs, y + 8 * half);
        }
    }

    public static void Tile4Q4_0Wide(byte* group, int blocks,
        sbyte* xq0, sbyte* xq1, sbyte* xq2, sbyte* xq3, float* xd0, float* xd1, float* xd2, float* xd3,
        int* xs0, int* xs1, int* xs2, int* xs3, float* y0, float* y1, float* y2, float* y3)
    {
        var mask = Vector512.Create((byte)0x0F);
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default;
        byte* nib = group;
        ushort* scales = (ushort*)InterleavedWeights.Q4_0Scales(group, blocks, 0);
        for (int b = 0; b < blocks; b++, nib += InterleavedWeights.Q4_0NibbleBytes, scales += InterleavedWeights.Q4_0GroupRows)
        {
            byte* ahead = nib + 4 * InterleavedWeights.Q4_0NibbleBytes;
            Sse.Prefetch0(ahead);
            Sse.Prefetch0(ahead + 64);
            Sse.Prefetch0(ahead + 128);
            Sse.Prefetch0(ahead + 192);
            var dw = ScalesWide(scales);
            UnpackQ4_0Wide(nib, mask, out var l0, out var l1, out var l2, out var l3, out var h0, out var h1, out var h2, out var h3);
            int o = 32 * b;
            f0 = BlockQ4_0Wide(xq0 + o, xs0[b], xd0[b], dw, l0, l1, l2, l3, h0, h1, h2, h3, f0);
            f1 = BlockQ4_0Wide(xq1 + o, xs1[b], xd1[b], dw, l0, l1, l2, l3, h0, h1, h2, h3, f1);
            f2 = BlockQ4_0Wide(xq2 + o, xs2[b], xd2[b], dw, l0, l1, l2, l3, h0, h1, h2, h3, f2);
            f3 = BlockQ4_0Wide(xq3 + o, xs3[b], xd3[b], dw, l0, l1, l2, l3, h0, h1, h2, h3, f3);
        }
        f0.Store(y0);
        f1.Store(y1);
        f2.Store(y2);
        f3.Store(y3);
    }

    /// <summary>
    /// 16 rows × 8 tokens (512-bit only): token j's activations at xq + j·cols, xd and xs + j·blocks,
    /// its outputs at y + j·yStride. Weights unpacked once for 8 tokens; the same per-token steps as
    /// <see cref="Tile4Q4_0Wide"/>, so results are identical.
    /// </summary>
    public static void Tile8Q4_0Wide(byte* group, int blocks, sbyte* xq, float* xd, int* xs, int cols, float* y, long yStride)
    {
        var mask = Vector512.Create((byte)0x0F);
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default, f4 = default, f5 = default, f6 = default, f7 = default;
        byte* nib = group;
        ushort* scales = (ushort*)InterleavedWeights.Q4_0Scales(group, blocks, 0);
        for (int b = 0; b < blocks; b++, nib += InterleavedWeights.Q4_0NibbleBytes, scales += InterleavedWeights.Q4_0GroupRows)
        {
            byte* ahead = nib + 4 * InterleavedWeights.Q4_0NibbleBytes;
            Sse.Prefetch0(ahead);
            Sse.Prefetch0(ahead + 64);
            Sse.Prefetch0(ahead + 128);
            Sse.Prefetch0(ahead + 192);
            var dw = ScalesWide(scales);
            UnpackQ4_0Wide(nib, mask, out var l0, out var l1, out var l2, out var l3, out var h0, out var h1, out var h2, out var h3);
            sbyte* x = xq + 32 * b;
            float* d = xd + b;
            int* s = xs + b;
            f0 = BlockQ4_0Wide(x, s[0], d[0], dw, l0, l1, l2, l3, h0, h1, h2, h3, f0);
            f1 = BlockQ4_0Wide(x + cols, s[blocks], d[blocks], dw, l0, l1, l2, l3, h0, h1, h2, h3, f1);
            f2 = BlockQ4_0Wide(x + 2 * cols, s[2 * blocks], d[2 * blocks], dw, l0, l1, l2, l3, h0, h1, h2, h3, f2);
            f3 = BlockQ4_0Wide(x + 3 * cols, s[3 * blocks], d[3 * blocks], dw, l0, l1, l2, l3, h0, h1, h2, h3, f3);
            f4 = BlockQ4_0Wide(x + 4 * cols, s[4 * blocks], d[4 * blocks], dw, l0, l1, l2, l3, h0, h1, h2, h3, f4);
            f5 = BlockQ4_0Wide(x + 5 * cols, s[5 * blocks], d[5 * blocks], dw, l0, l1, l2, l3, h0, h1, h2, h3, f5);
            f6 = BlockQ4_0Wide(x + 6 * cols, s[6 * blocks], d[6 * blocks], dw, l0, l1, l2, l3, h0, h1, h2, h3, f6);
            f7 = BlockQ4_0Wide(x + 7 * cols, s[7 * blocks], d[7 * blocks], dw, l0, l1, l2, l3, h0, h1, h2, h3, f7);
        }
        f0.Store(y);
        f1.Store(y + yStride);
        f2.Store(y + 2 * yStride);
        f3.Store(y + 3 * yStride);
        f4.Store(y + 4 * yStride);
        f5.Store(y + 5 * yStride);
        f6.Store(y + 6 * yStride);
        f7.Store(y + 7 * yStride);
    }

    public static void Tile1Q4_0Wide(byte* group, int blocks, sbyte* xq, float* xd, int* xs, float* y)
    {
        var mask = Vector512.Create((byte)0x0F);
        Vector512<float> f = default;
        byte* nib = group;
        ushort* scales = (ushort*)InterleavedWeights.Q4_0Scales(group, blocks, 0);
        for (int b = 0; b < blocks; b++, nib += InterleavedWeights.Q4_0NibbleBytes, scales += InterleavedWeights.Q4_0GroupRows)
        {
            // Decode streams each group once from memory: fetch 4 blocks ahead, and the scales
            // (32 bytes a block, a separate stream) 8 blocks ahead.
            byte* ahead = nib + 4 * InterleavedWeights.Q4_0NibbleBytes;
            Sse.Prefetch0(ahead);
            Sse.Prefetch0(ahead + 64);
            Sse.Prefetch0(ahead + 128);
            Sse.Prefetch0(ahead + 192);
            Sse.Prefetch0(scales + 8 * InterleavedWeights.Q4_0GroupRows);
            UnpackQ4_0Wide(nib, mask, out var l0, out var l1, out var l2, out var l3, out var h0, out var h1, out var h2, out var h3);
            f = BlockQ4_0Wide(xq + 32 * b, xs[b], xd[b], ScalesWide(scales), l0, l1, l2, l3, h0, h1, h2, h3, f);
        }
        f.Store(y);
    }

    /// <summary>One block for 16 rows and one token: the nibble sums, the −8·Σx offset, then scaled into the float accumulator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> BlockQ4_0Wide(sbyte* x, int xsum, float dx, Vector512<float> dw,
        Vector512<byte> l0, Vector512<byte> l1, Vector512<byte> l2, Vector512<byte> l3,
        Vector512<byte> h0, Vector512<byte> h1, Vector512<byte> h2, Vector512<byte> h3, Vector512<float> acc)
    {
        // Low nibbles hold elements 0..15 of the block, high nibbles 16..31: x in that order.
        var sum = Avx512BW.MultiplyAddAdjacent(NibbleDotWide(x, l0, l1, l2, l3, h0, h1, h2, h3), Vector512<short>.One) + Vector512.Create(-8 * xsum);
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sum), dw * Vector512.Create(dx), acc);
    }

    /// <summary>
    /// Σ_k w_k·x[4k..4k+4) as 16-bit pair sums per lane (one row per 32-bit lane, 32 bytes of x), in two
    /// chains: the integer core of the 512-bit Q4_0 and Q4_K tiles. Exact for nibbles (at most 30,720).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<short> NibbleDotWide(sbyte* x, Vector512<byte> w0, Vector512<byte> w1, Vector512<byte> w2, Vector512<byte> w3,
        Vector512<byte> w4, Vector512<byte> w5, Vector512<byte> w6, Vector512<byte> w7)
    {
        var a = Avx512BW.MultiplyAddAdjacent(w0, Broadcast4Wide(x));
        var c = Avx512BW.MultiplyAddAdjacent(w1, Broadcast4Wide(x + 4));
        a += Avx512BW.MultiplyAddAdjacent(w2, Broadcast4Wide(x + 8));
        c += Avx512BW.MultiplyAddAdjacent(w3, Broadcast4Wide(x + 12));
        a += Avx512BW.MultiplyAddAdjacent(w4, Broadcast4Wide(x + 16));
        c += Avx512BW.MultiplyAddAdjacent(w5, Broadcast4Wide(x + 20));
        a += Avx512BW.MultiplyAddAdjacent(w6, Broadcast4Wide(x + 24));
        c += Avx512BW.MultiplyAddAdjacent(w7, Broadcast4Wide(x + 28));
        return a + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UnpackQ4_0Wide(byte* nib, Vector512<byte> mask,
        out Vector512<byte> l0, out Vector512<byte> l1, out Vector512<byte> l2, out Vector512<byte> l3,
        out Vector512<byte> h0, out Vector512<byte> h1, out Vector512<byte> h2, out Vector512<byte> h3)
    {
        var r0 = Vector512.Load(nib);
        var r1 = Vector512.Load(nib + 64);
        var r2 = Vector512.Load(nib + 128);
        var r3 = Vector512.Load(nib + 192);
        l0 = r0 & mask;
        l1 = r1 & mask;
        l2 = r2 & mask;
        l3 = r3 & mask;
        h0 = Vector512.ShiftRightLogical(r0.AsUInt16(), 4).AsByte() & mask;
        h1 = Vector512.ShiftRightLogical(r1.AsUInt16(), 4).AsByte() & mask;
        h2 = Vector512.ShiftRightLogical(r2.AsUInt16(), 4).AsByte() & mask;
        h3 = Vector512.ShiftRightLogical(r3.AsUInt16(), 4).AsByte() & mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Broadcast4Wide(sbyte* x) => Vector512.Create(*(int*)x).AsSByte();

    /// <summary>The 16 f16 row scales of a block as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ScalesWide(ushort* scales) =>
        HalfConversion.HalfToSingle(Avx512F.ConvertToVector512UInt32(Vector256.Load(scales)));

    /// <summary>
    /// Rows 8·half..8·half+7 of a 16-row group × 4 tokens on 256-bit vectors: the lower or upper 32
    /// bytes of each 64-byte chunk.
    /// </summary>
    public static void Tile4Q4_0Half<T>(byte* group, int blocks, int half,
        sbyte* xq0, sbyte* xq1, sbyte* xq2, sbyte* xq3, float* xd0, float* xd1, float* xd2, float* xd3,
        int* xs0, int* xs1, int* xs2, int* xs3, float* y0, float* y1, float* y2, float* y3) where T : struct, IByteMultiplyAdd
    {
        var mask = Vector256.Create((byte)0x0F);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        byte* nib = group + 32 * half;
        byte* scales = InterleavedWeights.Q4_0Scales(group, blocks, 0) + 16 * half;
        for (int b = 0; b < blocks; b++, nib += InterleavedWeights.Q4_0NibbleBytes, scales += InterleavedWeights.Q4_0ScaleBytes)
        {
            byte* ahead = nib + 4 * InterleavedWeights.Q4_0NibbleBytes;
            Sse.Prefetch0(ahead);
            Sse.Prefetch0(ahead + 64);
            Sse.Prefetch0(ahead + 128);
            Sse.Prefetch0(ahead + 192);
            var dw = Scales(scales);
            UnpackQ4_0Half(nib, mask, out var l0, out var l1, out var l2, out var l3, out var h0, out var h1, out var h2, out var h3);
            int o = 32 * b;
            f0 = BlockQ4_0Half<T>(xq0 + o, -8 * xs0[b], xd0[b], dw, l0, l1, l2, l3, h0, h1, h2, h3, f0);
            f1 = BlockQ4_0Half<T>(xq1 + o, -8 * xs1[b], xd1[b], dw, l0, l1, l2, l3, h0, h1, h2, h3, f1);
            f2 = BlockQ4_0Half<T>(xq2 + o, -8 * xs2[b], xd2[b], dw, l0, l1, l2, l3, h0, h1, h2, h3, f2);
            f3 = BlockQ4_0Half<T>(xq3 + o, -8 * xs3[b], xd3[b], dw, l0, l1, l2, l3, h0, h1, h2, h3, f3);
        }
        f0.Store(y0);
        f1.Store(y1);
        f2.Store(y2);
        f3.Store(y3);
    }

    /// <summary>Rows 8·half..8·half+7 of a 16-row group × 1 token on 256-bit vectors.</summary>
    public static void Tile1Q4_0Half<T>(byte* group, int blocks, int half, sbyte* xq, float* xd, int* xs, float* y) where T : struct, IByteMultiplyAdd
    {
        var mask = Vector256.Create((byte)0x0F);
        Vector256<float> f = default;
        byte* nib = group + 32 * half;
        byte* scales = InterleavedWeights.Q4_0Scales(group, blocks, 0) + 16 * half;
        for (int b = 0; b < blocks; b++, nib += InterleavedWeights.Q4_0NibbleBytes, scales += InterleavedWeights.Q4_0ScaleBytes)
        {
            byte* ahead = nib + 4 * InterleavedWeights.Q4_0NibbleBytes;
            Sse.Prefetch0(ahead);
            Sse.Prefetch0(ahead + 64);
            Sse.Prefetch0(ahead + 128);
            Sse.Prefetch0(ahead + 192);
            Sse.Prefetch0(scales + 8 * InterleavedWeights.Q4_0ScaleBytes);
            UnpackQ4_0Half(nib, mask, out var l0, out var l1, out var l2, out var l3, out var h0, out var h1, out var h2, out var h3);
            f = BlockQ4_0Half<T>(xq + 32 * b, -8 * xs[b], xd[b], Scales(scales), l0, l1, l2, l3, h0, h1, h2, h3, f);
        }
        f.Store(y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> BlockQ4_0Half<T>(sbyte* x, int offset, float dx, Vector256<float> dw,
        Vector256<byte> l0, Vector256<byte> l1, Vector256<byte> l2, Vector256<byte> l3,
        Vector256<byte> h0, Vector256<byte> h1, Vector256<byte> h2, Vector256<byte> h3, Vector256<float> acc)
        where T : struct, IByteMultiplyAdd
    {
        // Low nibbles hold elements 0..15 of the block, high nibbles 16..31: x in that order.
        var sum = NibbleDot<T>(Vector256.Create(offset), x, l0, l1, l2, l3, h0, h1, h2, h3);
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(sum), dw * Vector256.Create(dx), acc);
    }

    /// <summary>One half of a block's 4 chunks as low nibbles (elements 0..15 of each row) and high nibbles (16..31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UnpackQ4_0Half(byte* nib, Vector256<byte> mask,
        out Vector256<byte> l0, out Vector256<byte> l1, out Vector256<byte> l2, out Vector256<byte> l3,
        out Vector256<byte> h0, out Vector256<byte> h1, out Vector256<byte> h2, out Vector256<byte> h3)
    {
        var r0 = Vector256.Load(nib);
        var r1 = Vector256.Load(nib + 64);
        var r2 = Vector256.Load(nib + 128);
        var r3 = Vector256.Load(nib + 192);
        l0 = r0 & mask;
        l1 = r1 & mask;
        l2 = r2 & mask;
        l3 = r3 & mask;
        h0 = Vector256.ShiftRightLogical(r0.AsUInt16(), 4).AsByte() & mask;
        h1 = Vector256.ShiftRightLogical(r1.AsUInt16(), 4).AsByte() & mask;
        h2 = Vector256.ShiftRightLogical(r2.AsUInt16(), 4).AsByte() & mask;
        h3 = Vector256.ShiftRightLogical(r3.AsUInt16(), 4).AsByte() & mask;
    }
}
