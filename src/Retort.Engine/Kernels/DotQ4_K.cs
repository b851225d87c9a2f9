using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// Dot product of one Q4_K weight row with Q8K activations. A super-block of 256 is
/// {f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]} with 8 sub-blocks of 32, each with a 6-bit
/// scale and min: value = d·sc·q − dmin·m. The min term needs only Σx per sub-block, which the
/// Q8K per-16 sums provide, so the inner loop multiplies raw nibbles only.
/// </summary>
internal static unsafe class DotQ4_K
{
    public const int BlockBytes = 144;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, sbyte* xq, float* xd, short* xbs, int blocks) => Dot(KernelPaths.Best, w, xq, xd, xbs, blocks);

    public static float Dot(KernelPath path, byte* w, sbyte* xq, float* xd, short* xbs, int blocks) => path switch
    {
        KernelPath.AvxVnni => DotAvx<VnniMultiplyAdd>(w, xq, xd, xbs, blocks),
        KernelPath.Avx2 => DotAvx<Avx2MultiplyAdd>(w, xq, xd, xbs, blocks),
        KernelPath.Vector128 => DotVector128(w, xq, xd, xbs, blocks),
        _ => DotScalar(w, xq, xd, blocks),
    };

    /// <summary>Unpacks the 8 six-bit scales and 8 six-bit mins of a super-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void UnpackScales(byte* s, byte* sc, byte* m)
    {
        for (int j = 0; j < 4; j++)
        {
            sc[j] = (byte)(s[j] & 63);
            m[j] = (byte)(s[j + 4] & 63);
        }
        for (int j = 4; j < 8; j++)
        {
            sc[j] = (byte)((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
            m[j] = (byte)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
        }
    }

    /// <summary>The reference: dequantizes nibble by nibble, ignores the activation sums.</summary>
    public static float DotScalar(byte* w, sbyte* xq, float* xd, int blocks)
    {
        byte* sc = stackalloc byte[8];
        byte* m = stackalloc byte[8];
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            UnpackScales(blk + 4, sc, m);
            byte* qs = blk + 16;
            sbyte* qx = xq + b * 256;
            int isum = 0, msum = 0;
            for (int i = 0; i < 4; i++)
            {
                int lo = 0, hi = 0, xlo = 0, xhi = 0;
                for (int l = 0; l < 32; l++)
                {
                    lo += (qs[32 * i + l] & 0xF) * qx[64 * i + l];
                    hi += (qs[32 * i + l] >> 4) * qx[64 * i + 32 + l];
                    xlo += qx[64 * i + l];
                    xhi += qx[64 * i + 32 + l];
                }
                isum += sc[2 * i] * lo + sc[2 * i + 1] * hi;
                msum += m[2 * i] * xlo + m[2 * i + 1] * xhi;
            }
            float d = HalfConversion.HalfToSingle(*(ushort*)blk) * xd[b];
            float dmin = HalfConversion.HalfToSingle(*(ushort*)(blk + 2)) * xd[b];
            sum += d * isum - dmin * msum;
        }
        return sum;
    }

    public static float DotVector128(byte* w, sbyte* xq, float* xd, short* xbs, int blocks)
    {
        byte* sc = stackalloc byte[8];
        byte* m = stackalloc byte[8];
        var mask = Vector128.Create((byte)0x0F);
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            UnpackScales(blk + 4, sc, m);
            byte* qs = blk + 16;
            sbyte* qx = xq + b * 256;
            int isum = 0;
            for (int i = 0; i < 4; i++)
            {
                var q0 = Vector128.Load(qs + 32 * i);
                var q1 = Vector128.Load(qs + 32 * i + 16);
                var lo = Vector128Ops.MulAdd(Vector128<int>.Zero, q0 & mask, Vector128.Load(qx + 64 * i));
                lo = Vector128Ops.MulAdd(lo, q1 & mask, Vector128.Load(qx + 64 * i + 16));
                var hi = Vector128Ops.MulAdd(Vector128<int>.Zero, Vector128.ShiftRightLogical(q0, 4), Vector128.Load(qx + 64 * i + 32));
                hi = Vector128Ops.MulAdd(hi, Vector128.ShiftRightLogical(q1, 4), Vector128.Load(qx + 64 * i + 48));
                isum += sc[2 * i] * Vector128.Sum(lo) + sc[2 * i + 1] * Vector128.Sum(hi);
            }
            sum += HalfConversion.HalfToSingle(*(ushort*)blk) * xd[b] * isum
                - HalfConversion.HalfToSingle(*(ushort*)(blk + 2)) * xd[b] * MinSum(m, xbs + b * 16);
        }
        return sum;
    }

    public static float DotAvx<T>(byte* w, sbyte* xq, float* xd, short* xbs, int blocks) where T : struct, IByteMultiplyAdd
    {
        byte* sc = stackalloc byte[8];
        byte* m = stackalloc byte[8];
        var mask = Vector256.Create((byte)0x0F);
        var acc = Vector256<float>.Zero;
        float minTerm = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            UnpackScales(blk + 4, sc, m);
            byte* qs = blk + 16;
            sbyte* qx = xq + b * 256;
            // Nibble×byte pair sums (≤ 2·15·128) fit a short; the scale is applied by a second
            // pairwise multiply-add, so one int accumulator covers the whole super-block.
            var isum = Vector256<int>.Zero;
            for (int i = 0; i < 4; i++)
            {
                var q = Vector256.Load(qs + 32 * i);
                var lo = Avx2.MultiplyAddAdjacent(q & mask, Vector256.Load(qx + 64 * i));
                var hi = Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & mask, Vector256.Load(qx + 64 * i + 32));
                isum = T.MulAddPairs(isum, lo, Vector256.Create((short)sc[2 * i]));
                isum = T.MulAddPairs(isum, hi, Vector256.Create((short)sc[2 * i + 1]));
            }
            float d = HalfConversion.HalfToSingleLookup(*(ushort*)blk) * xd[b];
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(d), acc);
            minTerm += HalfConversion.HalfToSingleLookup(*(ushort*)(blk + 2)) * xd[b] * MinSum(m, xbs + b * 16);
        }
        return Vector256.Sum(acc) - minTerm;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MinSum(byte* m, short* bs)
    {
        int s = 0;
        for (int j = 0; j < 8; j++) s += m[j] * (bs[2 * j] + bs[2 * j + 1]);
        return s;
    }
}
