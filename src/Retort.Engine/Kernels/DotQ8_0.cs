using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// Dot product of one Q8_0 weight row ({f16 d; int8 qs[32]} per block) with Q8 activations:
/// Σ_b d_w·d_x·Σ q_w·q_x, the inner sum exact in integers.
/// </summary>
internal static unsafe class DotQ8_0
{
    public const int BlockBytes = 34;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, sbyte* xq, float* xd, int blocks) => Dot(KernelPaths.Best, w, xq, xd, blocks);

    public static float Dot(KernelPath path, byte* w, sbyte* xq, float* xd, int blocks) => path switch
    {
        KernelPath.AvxVnni => DotAvx<VnniMultiplyAdd>(w, xq, xd, blocks),
        KernelPath.Avx2 => DotAvx<Avx2MultiplyAdd>(w, xq, xd, blocks),
        KernelPath.Vector128 => DotVector128(w, xq, xd, blocks),
        _ => DotScalar(w, xq, xd, blocks),
    };

    public static float DotScalar(byte* w, sbyte* xq, float* xd, int blocks)
    {
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            sbyte* qw = (sbyte*)(blk + 2);
            sbyte* qx = xq + b * 32;
            int isum = 0;
            for (int i = 0; i < 32; i++) isum += qw[i] * qx[i];
            sum += HalfConversion.HalfToSingle(*(ushort*)blk) * xd[b] * isum;
        }
        return sum;
    }

    public static float DotVector128(byte* w, sbyte* xq, float* xd, int blocks)
    {
        // Block sums stay in 4 int lanes and are scaled in float lanes: no horizontal sum per block.
        var acc = Vector128<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            var s = Vector128Ops.MulAdd(Vector128<int>.Zero, Vector128.Load((sbyte*)blk + 2), Vector128.Load(xq + b * 32));
            s = Vector128Ops.MulAdd(s, Vector128.Load((sbyte*)blk + 18), Vector128.Load(xq + b * 32 + 16));
            float d = HalfConversion.HalfToSingleLookup(*(ushort*)blk) * xd[b];
            acc = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(s), Vector128.Create(d), acc);
        }
        return Vector128.Sum(acc);
    }

    public static float DotAvx<T>(byte* w, sbyte* xq, float* xd, int blocks) where T : struct, IByteMultiplyAdd
    {
        // Two accumulators hide the FMA latency; signed×signed becomes |w| × (x with w's sign)
        // because the byte instructions want one unsigned operand.
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int b = 0;
        for (; b + 1 < blocks; b += 2)
        {
            byte* blk = w + b * BlockBytes;
            var w0 = Vector256.Load((sbyte*)blk + 2);
            var w1 = Vector256.Load((sbyte*)blk + BlockBytes + 2);
            var s0 = T.MulAdd(Vector256<int>.Zero, Avx2.Abs(w0), Avx2.Sign(Vector256.Load(xq + b * 32), w0));
            var s1 = T.MulAdd(Vector256<int>.Zero, Avx2.Abs(w1), Avx2.Sign(Vector256.Load(xq + b * 32 + 32), w1));
            float d0 = HalfConversion.HalfToSingleLookup(*(ushort*)blk) * xd[b];
            float d1 = HalfConversion.HalfToSingleLookup(*(ushort*)(blk + BlockBytes)) * xd[b + 1];
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Vector256.Create(d0), acc0);
            acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s1), Vector256.Create(d1), acc1);
        }
        if (b < blocks)
        {
            byte* blk = w + b * BlockBytes;
            var w0 = Vector256.Load((sbyte*)blk + 2);
            var s0 = T.MulAdd(Vector256<int>.Zero, Avx2.Abs(w0), Avx2.Sign(Vector256.Load(xq + b * 32), w0));
            float d0 = HalfConversion.HalfToSingleLookup(*(ushort*)blk) * xd[b];
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Vector256.Create(d0), acc0);
        }
        return Vector256.Sum(acc0 + acc1);
    }

    /// <summary>True when <see cref="Dot4"/> has a fast path on this CPU.</summary>
    public static bool HasDot4 => KernelPaths.Best is KernelPath.AvxVnni or KernelPath.Avx2;

    /// <summary>Four consecutive rows (rowBytes apart) against one activation row: result[0..4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot4(byte* w, long rowBytes, sbyte* xq, float* xd, int* xsum4, int blocks, float* result)
    {
        if (KernelPaths.Best == KernelPath.AvxVnni) Dot4Avx<VnniMultiplyAdd>(w, rowBytes, xq, xd, xsum4, blocks, result);
        else Dot4Avx<Avx2MultiplyAdd>(w, rowBytes, xq, xd, xsum4, blocks, result);
    }

    /// <summary>
    /// Four rows share each activation load. With VNNI the signed weights are biased to unsigned
    /// (w xor 0x80 = w + 128) and the accumulator starts at −128·Σ of each 4 activations; vpmaddubsw
    /// would saturate on that range, so the AVX2 variant moves the sign onto the activations instead.
    /// </summary>
    public static void Dot4Avx<T>(byte* w, long rowBytes, sbyte* xq, float* xd, int* xsum4, int blocks, float* result)
        where T : struct, IByteMultiplyAdd
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var acc2 = Vector256<float>.Zero;
        var acc3 = Vector256<float>.Zero;
        byte* w0 = w, w1 = w + rowBytes, w2 = w + 2 * rowBytes, w3 = w + 3 * rowBytes;
        float* table = HalfConversion.Table;
        for (int b = 0; b < blocks; b++)
        {
            var y = Vector256.Load(xq + 32 * b);
            var init = T.FullByteRange
                ? Vector256<int>.Zero - Vector256.ShiftLeft(Vector256.Load(xsum4 + 8 * b), 7)
                : Vector256<int>.Zero;
            float dx = xd[b];
            long o = (long)b * BlockBytes;
            // See DotQ4_0.Dot4Avx: interleaved row streams need software prefetch.
            byte* ahead = w + DotQ4_0.PrefetchGroups * 4 * rowBytes + 4 * o;
            Sse.Prefetch0(ahead);
            Sse.Prefetch0(ahead + 64);
            Sse.Prefetch0(ahead + 128);
            acc0 = Step<T>(w0 + o, y, init, dx, table, acc0);
            acc1 = Step<T>(w1 + o, y, init, dx, table, acc1);
            acc2 = Step<T>(w2 + o, y, init, dx, table, acc2);
            acc3 = Step<T>(w3 + o, y, init, dx, table, acc3);
        }
        result[0] = Vector256.Sum(acc0);
        result[1] = Vector256.Sum(acc1);
        result[2] = Vector256.Sum(acc2);
        result[3] = Vector256.Sum(acc3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step<T>(byte* blk, Vector256<sbyte> y, Vector256<int> init, float dx, float* table,
        Vector256<float> acc) where T : struct, IByteMultiplyAdd
    {
        var wv = Vector256.Load((sbyte*)blk + 2);
        var s = T.FullByteRange
            ? T.MulAdd(init, (wv ^ Vector256.Create((sbyte)-128)).AsByte(), y)
            : T.MulAdd(init, Avx2.Abs(wv), Avx2.Sign(y, wv));
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(s), Vector256.Create(table[*(ushort*)blk] * dx), acc);
    }
}
