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
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            var acc = Vector128Ops.MulAdd(Vector128<int>.Zero, Vector128.Load((sbyte*)blk + 2), Vector128.Load(xq + b * 32));
            acc = Vector128Ops.MulAdd(acc, Vector128.Load((sbyte*)blk + 18), Vector128.Load(xq + b * 32 + 16));
            sum += HalfConversion.HalfToSingle(*(ushort*)blk) * xd[b] * Vector128.Sum(acc);
        }
        return sum;
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
            float d0 = HalfConversion.HalfToSingle(*(ushort*)blk) * xd[b];
            float d1 = HalfConversion.HalfToSingle(*(ushort*)(blk + BlockBytes)) * xd[b + 1];
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Vector256.Create(d0), acc0);
            acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s1), Vector256.Create(d1), acc1);
        }
        if (b < blocks)
        {
            byte* blk = w + b * BlockBytes;
            var w0 = Vector256.Load((sbyte*)blk + 2);
            var s0 = T.MulAdd(Vector256<int>.Zero, Avx2.Abs(w0), Avx2.Sign(Vector256.Load(xq + b * 32), w0));
            float d0 = HalfConversion.HalfToSingle(*(ushort*)blk) * xd[b];
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Vector256.Create(d0), acc0);
        }
        return Vector256.Sum(acc0 + acc1);
    }
}
