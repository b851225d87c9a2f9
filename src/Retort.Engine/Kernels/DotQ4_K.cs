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
            // Scales multiply the int lanes; one horizontal sum per super-block.
            var isum = Vector128<int>.Zero;
            for (int i = 0; i < 4; i++)
            {
                var q0 = Vector128.Load(qs + 32 * i);
                var q1 = Vector128.Load(qs + 32 * i + 16);
                var lo = Vector128Ops.MulAdd(Vector128<int>.Zero, q0 & mask, Vector128.Load(qx + 64 * i));
                lo = Vector128Ops.MulAdd(lo, q1 & mask, Vector128.Load(qx + 64 * i + 16));
                var hi = Vector128Ops.MulAdd(Vector128<int>.Zero, Vector128.ShiftRightLogical(q0, 4), Vector128.Load(qx + 64 * i + 32));
                hi = Vector128Ops.MulAdd(hi, Vector128.ShiftRightLogical(q1, 4), Vector128.Load(qx + 64 * i + 48));
                isum += lo * sc[2 * i] + hi * sc[2 * i + 1];
            }
            float dx = xd[b];
            sum += HalfConversion.HalfToSingleLookup(*(ushort*)blk) * dx * Vector128.Sum(isum)
                - HalfConversion.HalfToSingleLookup(*(ushort*)(blk + 2)) * dx * MinSum(m, xbs + b * 16);
        }
        return sum;
    }

    public static float DotAvx<T>(byte* w, sbyte* xq, float* xd, short* xbs, int blocks) where T : struct, IByteMultiplyAdd
    {
        var mask = Vector256.Create((byte)0x0F);
        var acc = Vector256<float>.Zero;
        var minAcc = Vector256<float>.Zero;
        // vpshufb controls that broadcast 16-bit scale j across a vector holding the 8 scales in both lanes.
        var c0 = PairControl(0); var c1 = PairControl(1); var c2 = PairControl(2); var c3 = PairControl(3);
        var c4 = PairControl(4); var c5 = PairControl(5); var c6 = PairControl(6); var c7 = PairControl(7);
        float* table = HalfConversion.Table;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            // The 12 scale bytes as three words: a = low 6 bits of scales 0-3 (+2 high bits of
            // scales 4-7), m = the same for mins, c = low 4 bits of scales and mins 4-7.
            uint a = *(uint*)(blk + 4), m = *(uint*)(blk + 8), c = *(uint*)(blk + 12);
            ulong scales = (a & 0x3F3F3F3Fu) | (ulong)((c & 0x0F0F0F0Fu) | (((a >> 6) & 0x03030303u) << 4)) << 32;
            ulong mins = (m & 0x3F3F3F3Fu) | (ulong)(((c >> 4) & 0x0F0F0F0Fu) | (((m >> 6) & 0x03030303u) << 4)) << 32;

            var sc8 = Vector128.WidenLower(Vector128.CreateScalar(scales).AsByte());
            var sc = Vector256.Create(sc8, sc8).AsByte();
            var mb = Vector128.CreateScalar(mins).AsByte();
            var minPairs = Avx2.ConvertToVector256Int16(Sse2.UnpackLow(mb, mb));
            // Σ_j m_j·Σx over sub-block j, as 8 int lanes; scaled and accumulated in float without a horizontal sum.
            var minDot = Avx2.MultiplyAddAdjacent(Vector256.Load(xbs + b * 16), minPairs);
            float dx = xd[b];
            minAcc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(minDot), Vector256.Create(table[*(ushort*)(blk + 2)] * dx), minAcc);

            byte* qs = blk + 16;
            sbyte* qx = xq + b * 256;
            var isum = Vector256<int>.Zero;
            isum = SubBlocks<T>(isum, qs, qx, mask, Avx2.Shuffle(sc, c0), Avx2.Shuffle(sc, c1));
            isum = SubBlocks<T>(isum, qs + 32, qx + 64, mask, Avx2.Shuffle(sc, c2), Avx2.Shuffle(sc, c3));
            isum = SubBlocks<T>(isum, qs + 64, qx + 128, mask, Avx2.Shuffle(sc, c4), Avx2.Shuffle(sc, c5));
            isum = SubBlocks<T>(isum, qs + 96, qx + 192, mask, Avx2.Shuffle(sc, c6), Avx2.Shuffle(sc, c7));
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(table[*(ushort*)blk] * dx), acc);
        }
        return Vector256.Sum(acc) - Vector256.Sum(minAcc);
    }

    /// <summary>
    /// One row against two activation rows (tokens), for prompt batches: the scale unpacking and
    /// nibble extraction of each super-block are done once for both tokens.
    /// </summary>
    public static void Dot1x2(byte* w, sbyte* xq0, float* xd0, short* xbs0, sbyte* xq1, float* xd1, short* xbs1, int blocks,
        out float r0, out float r1)
    {
        if (KernelPaths.Best == KernelPath.AvxVnni) Dot1x2Avx<VnniMultiplyAdd>(w, xq0, xd0, xbs0, xq1, xd1, xbs1, blocks, out r0, out r1);
        else if (KernelPaths.Best == KernelPath.Avx2) Dot1x2Avx<Avx2MultiplyAdd>(w, xq0, xd0, xbs0, xq1, xd1, xbs1, blocks, out r0, out r1);
        else
        {
            r0 = Dot(w, xq0, xd0, xbs0, blocks);
            r1 = Dot(w, xq1, xd1, xbs1, blocks);
        }
    }

    public static void Dot1x2Avx<T>(byte* w, sbyte* xq0, float* xd0, short* xbs0, sbyte* xq1, float* xd1, short* xbs1, int blocks,
        out float r0, out float r1) where T : struct, IByteMultiplyAdd
    {
        var mask = Vector256.Create((byte)0x0F);
        Vector256<float> acc0 = default, acc1 = default, min0 = default, min1 = default;
        var c0 = PairControl(0); var c1 = PairControl(1); var c2 = PairControl(2); var c3 = PairControl(3);
        var c4 = PairControl(4); var c5 = PairControl(5); var c6 = PairControl(6); var c7 = PairControl(7);
        float* table = HalfConversion.Table;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            uint a = *(uint*)(blk + 4), m = *(uint*)(blk + 8), c = *(uint*)(blk + 12);
            ulong scales = (a & 0x3F3F3F3Fu) | (ulong)((c & 0x0F0F0F0Fu) | (((a >> 6) & 0x03030303u) << 4)) << 32;
            ulong mins = (m & 0x3F3F3F3Fu) | (ulong)(((c >> 4) & 0x0F0F0F0Fu) | (((m >> 6) & 0x03030303u) << 4)) << 32;
            var sc8 = Vector128.WidenLower(Vector128.CreateScalar(scales).AsByte());
            var sc = Vector256.Create(sc8, sc8).AsByte();
            var mb = Vector128.CreateScalar(mins).AsByte();
            var minPairs = Avx2.ConvertToVector256Int16(Sse2.UnpackLow(mb, mb));
            float dw = table[*(ushort*)blk], dmin = table[*(ushort*)(blk + 2)];
            float dx0 = xd0[b], dx1 = xd1[b];
            min0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Vector256.Load(xbs0 + b * 16), minPairs)), Vector256.Create(dmin * dx0), min0);
            min1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Vector256.Load(xbs1 + b * 16), minPairs)), Vector256.Create(dmin * dx1), min1);

            byte* qs = blk + 16;
            sbyte* x0 = xq0 + b * 256;
            sbyte* x1 = xq1 + b * 256;
            var s0 = Vector256<int>.Zero;
            var s1 = Vector256<int>.Zero;
            SubBlocks2<T>(ref s0, ref s1, qs, x0, x1, mask, Avx2.Shuffle(sc, c0), Avx2.Shuffle(sc, c1));
            SubBlocks2<T>(ref s0, ref s1, qs + 32, x0 + 64, x1 + 64, mask, Avx2.Shuffle(sc, c2), Avx2.Shuffle(sc, c3));
            SubBlocks2<T>(ref s0, ref s1, qs + 64, x0 + 128, x1 + 128, mask, Avx2.Shuffle(sc, c4), Avx2.Shuffle(sc, c5));
            SubBlocks2<T>(ref s0, ref s1, qs + 96, x0 + 192, x1 + 192, mask, Avx2.Shuffle(sc, c6), Avx2.Shuffle(sc, c7));
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Vector256.Create(dw * dx0), acc0);
            acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s1), Vector256.Create(dw * dx1), acc1);
        }
        r0 = Vector256.Sum(acc0) - Vector256.Sum(min0);
        r1 = Vector256.Sum(acc1) - Vector256.Sum(min1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SubBlocks2<T>(ref Vector256<int> s0, ref Vector256<int> s1, byte* qs, sbyte* x0, sbyte* x1,
        Vector256<byte> mask, Vector256<byte> sLo, Vector256<byte> sHi) where T : struct, IByteMultiplyAdd
    {
        var q = Vector256.Load(qs);
        var lo = q & mask;
        var hi = Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & mask;
        s0 = T.MulAddPairs(s0, Avx2.MultiplyAddAdjacent(lo, Vector256.Load(x0)), sLo.AsInt16());
        s0 = T.MulAddPairs(s0, Avx2.MultiplyAddAdjacent(hi, Vector256.Load(x0 + 32)), sHi.AsInt16());
        s1 = T.MulAddPairs(s1, Avx2.MultiplyAddAdjacent(lo, Vector256.Load(x1)), sLo.AsInt16());
        s1 = T.MulAddPairs(s1, Avx2.MultiplyAddAdjacent(hi, Vector256.Load(x1 + 32)), sHi.AsInt16());
    }

    /// <summary>One 64-value chunk: low nibbles with scale sLo, high nibbles with scale sHi.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> SubBlocks<T>(Vector256<int> isum, byte* qs, sbyte* qx, Vector256<byte> mask,
        Vector256<byte> sLo, Vector256<byte> sHi) where T : struct, IByteMultiplyAdd
    {
        // Nibble×byte pair sums (≤ 2·15·128) fit a short; the scale is applied by a second
        // pairwise multiply-add, so one int accumulator covers the whole super-block.
        var q = Vector256.Load(qs);
        var lo = Avx2.MultiplyAddAdjacent(q & mask, Vector256.Load(qx));
        var hi = Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & mask, Vector256.Load(qx + 32));
        isum = T.MulAddPairs(isum, lo, sLo.AsInt16());
        return T.MulAddPairs(isum, hi, sHi.AsInt16());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> PairControl(int j) =>
        Vector256.Create((ushort)(2 * j | (2 * j + 1) << 8)).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MinSum(byte* m, short* bs)
    {
        int s = 0;
        for (int j = 0; j < 8; j++) s += m[j] * (bs[2 * j] + bs[2 * j + 1]);
        return s;
    }
}
