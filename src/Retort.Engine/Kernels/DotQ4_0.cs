using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// Dot product of one Q4_0 weight row ({f16 d; uint8 qs[16]} per block, value d·(nibble-8)) with
/// Q8 activations. Nibbles are multiplied unsigned (0..15), and the -8 offset is removed afterwards
/// as 8·d_w·(d_x·Σq_x), using the per-block activation sum stored at quantization time.
/// </summary>
internal static unsafe class DotQ4_0
{
    public const int BlockBytes = 18;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, sbyte* xq, float* xd, float* xs, int blocks) => Dot(KernelPaths.Best, w, xq, xd, xs, blocks);

    public static float Dot(KernelPath path, byte* w, sbyte* xq, float* xd, float* xs, int blocks) => path switch
    {
        KernelPath.AvxVnni => DotAvx<VnniMultiplyAdd>(w, xq, xd, xs, blocks),
        KernelPath.Avx2 => DotAvx<Avx2MultiplyAdd>(w, xq, xd, xs, blocks),
        KernelPath.Vector128 => DotVector128(w, xq, xd, xs, blocks),
        _ => DotScalar(w, xq, xd, blocks),
    };

    /// <summary>The reference: applies the -8 directly, needs no activation sums.</summary>
    public static float DotScalar(byte* w, sbyte* xq, float* xd, int blocks)
    {
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            sbyte* qx = xq + b * 32;
            int isum = 0;
            for (int j = 0; j < 16; j++)
            {
                int q = blk[2 + j];
                isum += ((q & 0xF) - 8) * qx[j] + ((q >> 4) - 8) * qx[j + 16];
            }
            sum += HalfConversion.HalfToSingle(*(ushort*)blk) * xd[b] * isum;
        }
        return sum;
    }

    public static float DotVector128(byte* w, sbyte* xq, float* xd, float* xs, int blocks)
    {
        float sum = 0, offset = 0;
        var mask = Vector128.Create((byte)0x0F);
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            var q = Vector128.Load(blk + 2);
            var acc = Vector128Ops.MulAdd(Vector128<int>.Zero, q & mask, Vector128.Load(xq + b * 32));
            acc = Vector128Ops.MulAdd(acc, Vector128.ShiftRightLogical(q, 4), Vector128.Load(xq + b * 32 + 16));
            float dw = HalfConversion.HalfToSingle(*(ushort*)blk);
            sum += dw * xd[b] * Vector128.Sum(acc);
            offset += dw * xs[b];
        }
        return sum - 8 * offset;
    }

    public static float DotAvx<T>(byte* w, sbyte* xq, float* xd, float* xs, int blocks) where T : struct, IByteMultiplyAdd
    {
        var mask = Vector256.Create((byte)0x0F);
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        float off0 = 0, off1 = 0;
        int b = 0;
        for (; b + 1 < blocks; b += 2)
        {
            byte* blk = w + b * BlockBytes;
            var s0 = T.MulAdd(Vector256<int>.Zero, Nibbles(blk + 2, mask), Vector256.Load(xq + b * 32));
            var s1 = T.MulAdd(Vector256<int>.Zero, Nibbles(blk + BlockBytes + 2, mask), Vector256.Load(xq + b * 32 + 32));
            float dw0 = HalfConversion.HalfToSingle(*(ushort*)blk);
            float dw1 = HalfConversion.HalfToSingle(*(ushort*)(blk + BlockBytes));
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Vector256.Create(dw0 * xd[b]), acc0);
            acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s1), Vector256.Create(dw1 * xd[b + 1]), acc1);
            off0 += dw0 * xs[b];
            off1 += dw1 * xs[b + 1];
        }
        if (b < blocks)
        {
            byte* blk = w + b * BlockBytes;
            var s0 = T.MulAdd(Vector256<int>.Zero, Nibbles(blk + 2, mask), Vector256.Load(xq + b * 32));
            float dw0 = HalfConversion.HalfToSingle(*(ushort*)blk);
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Vector256.Create(dw0 * xd[b]), acc0);
            off0 += dw0 * xs[b];
        }
        return Vector256.Sum(acc0 + acc1) - 8 * (off0 + off1);
    }

    /// <summary>16 packed bytes to 32 nibbles in element order: low nibbles first, then high.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<byte> Nibbles(byte* qs, Vector256<byte> mask)
    {
        var q = Vector128.Load(qs);
        return Vector256.Create(q, Vector128.ShiftRightLogical(q.AsUInt16(), 4).AsByte()) & mask;
    }
}
