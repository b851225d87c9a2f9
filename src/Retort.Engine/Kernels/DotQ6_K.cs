using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// Dot product of one Q6_K weight row with Q8K activations. A super-block of 256 is
/// {uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d}; each value is a 6-bit q (4 low bits
/// from ql, 2 high bits from qh) minus 32, scaled per 16 values. The kernels multiply the unsigned
/// 6-bit q and take off 32·Σ sc·Σx afterwards using the Q8K per-16 sums.
/// </summary>
internal static unsafe class DotQ6_K
{
    public const int BlockBytes = 210;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, sbyte* xq, float* xd, short* xbs, int blocks) => Dot(KernelPaths.Best, w, xq, xd, xbs, blocks);

    public static float Dot(KernelPath path, byte* w, sbyte* xq, float* xd, short* xbs, int blocks) => path switch
    {
        KernelPath.AvxVnni => DotAvx<VnniMultiplyAdd>(w, xq, xd, xbs, blocks),
        KernelPath.Avx2 => DotAvx<Avx2MultiplyAdd>(w, xq, xd, xbs, blocks),
        KernelPath.Vector128 => DotVector128(w, xq, xd, xbs, blocks),
        _ => DotScalar(w, xq, xd, blocks),
    };

    /// <summary>The reference: rebuilds each signed 6-bit value, ignores the activation sums.</summary>
    public static float DotScalar(byte* w, sbyte* xq, float* xd, int blocks)
    {
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            sbyte* scales = (sbyte*)(blk + 192);
            int isum = 0;
            for (int n = 0; n < 2; n++)
            {
                byte* ql = blk + 64 * n;
                byte* qh = blk + 128 + 32 * n;
                sbyte* sc = scales + 8 * n;
                sbyte* qx = xq + b * 256 + 128 * n;
                for (int l = 0; l < 32; l++)
                {
                    int s = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    isum += sc[s] * q1 * qx[l] + sc[s + 2] * q2 * qx[l + 32]
                        + sc[s + 4] * q3 * qx[l + 64] + sc[s + 6] * q4 * qx[l + 96];
                }
            }
            sum += HalfConversion.HalfToSingle(*(ushort*)(blk + 208)) * xd[b] * isum;
        }
        return sum;
    }

    public static float DotVector128(byte* w, sbyte* xq, float* xd, short* xbs, int blocks)
    {
        var lowMask = Vector128.Create((byte)0x0F);
        var highMask = Vector128.Create((byte)0x30);
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            sbyte* scales = (sbyte*)(blk + 192);
            // Scales multiply the int lanes; one horizontal sum per super-block.
            var isum = Vector128<int>.Zero;
            for (int n = 0; n < 2; n++)
            {
                byte* ql = blk + 64 * n;
                byte* qh = blk + 128 + 32 * n;
                sbyte* sc = scales + 8 * n;
                sbyte* qx = xq + b * 256 + 128 * n;
                for (int h = 0; h < 2; h++) // the two 16-value halves of each 32-run
                {
                    var l0 = Vector128.Load(ql + 16 * h);
                    var l1 = Vector128.Load(ql + 32 + 16 * h);
                    var hb = Vector128.Load(qh + 16 * h);
                    var q1 = (l0 & lowMask) | (Vector128.ShiftLeft(hb, 4) & highMask);
                    var q2 = (l1 & lowMask) | (Vector128.ShiftLeft(hb, 2) & highMask);
                    var q3 = Vector128.ShiftRightLogical(l0, 4) | (hb & highMask);
                    var q4 = Vector128.ShiftRightLogical(l1, 4) | (Vector128.ShiftRightLogical(hb, 2) & highMask);
                    isum += Vector128Ops.MulAdd(Vector128<int>.Zero, q1, Vector128.Load(qx + 16 * h)) * sc[h]
                        + Vector128Ops.MulAdd(Vector128<int>.Zero, q2, Vector128.Load(qx + 32 + 16 * h)) * sc[h + 2]
                        + Vector128Ops.MulAdd(Vector128<int>.Zero, q3, Vector128.Load(qx + 64 + 16 * h)) * sc[h + 4]
                        + Vector128Ops.MulAdd(Vector128<int>.Zero, q4, Vector128.Load(qx + 96 + 16 * h)) * sc[h + 6];
                }
            }
            int total = Vector128.Sum(isum) - 32 * OffsetSum(scales, xbs + b * 16);
            sum += HalfConversion.HalfToSingleLookup(*(ushort*)(blk + 208)) * xd[b] * total;
        }
        return sum;
    }

    public static float DotAvx<T>(byte* w, sbyte* xq, float* xd, short* xbs, int blocks) where T : struct, IByteMultiplyAdd
    {
        var lowMask = Vector256.Create((byte)0x0F);
        var highMask = Vector256.Create((byte)0x30);
        // vpshufb controls: low lane broadcasts 16-bit scale 2k, high lane scale 2k+1 (one per 16 values).
        var c0 = LaneControl(0); var c1 = LaneControl(1); var c2 = LaneControl(2); var c3 = LaneControl(3);
        float* table = HalfConversion.Table;
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            var sc16 = Avx2.ConvertToVector256Int16((sbyte*)(blk + 192));
            // Start from −32·Σ sc_g·Σx_g: the offset of all 16 groups, in 8 int lanes.
            var isum = Vector256<int>.Zero - Vector256.ShiftLeft(Avx2.MultiplyAddAdjacent(sc16, Vector256.Load(xbs + b * 16)), 5);
            for (int n = 0; n < 2; n++)
            {
                byte* ql = blk + 64 * n;
                sbyte* qx = xq + b * 256 + 128 * n;
                var sc = (n == 0 ? Avx2.Permute2x128(sc16, sc16, 0x00) : Avx2.Permute2x128(sc16, sc16, 0x11)).AsByte();
                var l0 = Vector256.Load(ql);
                var l1 = Vector256.Load(ql + 32);
                var hb = Vector256.Load(blk + 128 + 32 * n).AsUInt16();
                // 16-bit shifts leak bits across byte boundaries only outside the masked bits.
                var q1 = (l0 & lowMask) | (Vector256.ShiftLeft(hb, 4).AsByte() & highMask);
                var q2 = (l1 & lowMask) | (Vector256.ShiftLeft(hb, 2).AsByte() & highMask);
                var q3 = (Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & lowMask) | (hb.AsByte() & highMask);
                var q4 = (Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & lowMask) | (Vector256.ShiftRightLogical(hb, 2).AsByte() & highMask);
                // 6-bit × byte pair sums (≤ 2·63·128) fit a short; each 128-bit lane is one 16-value group.
                isum = T.MulAddPairs(isum, Avx2.MultiplyAddAdjacent(q1, Vector256.Load(qx)), Avx2.Shuffle(sc, c0).AsInt16());
                isum = T.MulAddPairs(isum, Avx2.MultiplyAddAdjacent(q2, Vector256.Load(qx + 32)), Avx2.Shuffle(sc, c1).AsInt16());
                isum = T.MulAddPairs(isum, Avx2.MultiplyAddAdjacent(q3, Vector256.Load(qx + 64)), Avx2.Shuffle(sc, c2).AsInt16());
                isum = T.MulAddPairs(isum, Avx2.MultiplyAddAdjacent(q4, Vector256.Load(qx + 96)), Avx2.Shuffle(sc, c3).AsInt16());
            }
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(table[*(ushort*)(blk + 208)] * xd[b]), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>
    /// One row against two activation rows (tokens), for prompt batches: each super-block's 6-bit
    /// values and scale vectors are built once for both tokens.
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
        var lowMask = Vector256.Create((byte)0x0F);
        var highMask = Vector256.Create((byte)0x30);
        var c0 = LaneControl(0); var c1 = LaneControl(1); var c2 = LaneControl(2); var c3 = LaneControl(3);
        float* table = HalfConversion.Table;
        Vector256<float> acc0 = default, acc1 = default;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * BlockBytes;
            var sc16 = Avx2.ConvertToVector256Int16((sbyte*)(blk + 192));
            var s0 = Vector256<int>.Zero - Vector256.ShiftLeft(Avx2.MultiplyAddAdjacent(sc16, Vector256.Load(xbs0 + b * 16)), 5);
            var s1 = Vector256<int>.Zero - Vector256.ShiftLeft(Avx2.MultiplyAddAdjacent(sc16, Vector256.Load(xbs1 + b * 16)), 5);
            for (int n = 0; n < 2; n++)
            {
                byte* ql = blk + 64 * n;
                sbyte* x0 = xq0 + b * 256 + 128 * n;
                sbyte* x1 = xq1 + b * 256 + 128 * n;
                var sc = (n == 0 ? Avx2.Permute2x128(sc16, sc16, 0x00) : Avx2.Permute2x128(sc16, sc16, 0x11)).AsByte();
                var l0 = Vector256.Load(ql);
                var l1 = Vector256.Load(ql + 32);
                var hb = Vector256.Load(blk + 128 + 32 * n).AsUInt16();
                var q1 = (l0 & lowMask) | (Vector256.ShiftLeft(hb, 4).AsByte() & highMask);
                var q2 = (l1 & lowMask) | (Vector256.ShiftLeft(hb, 2).AsByte() & highMask);
                var q3 = (Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & lowMask) | (hb.AsByte() & highMask);
                var q4 = (Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & lowMask) | (Vector256.ShiftRightLogical(hb, 2).AsByte() & highMask);
                var k0 = Avx2.Shuffle(sc, c0).AsInt16();
                var k1 = Avx2.Shuffle(sc, c1).AsInt16();
                var k2 = Avx2.Shuffle(sc, c2).AsInt16();
                var k3 = Avx2.Shuffle(sc, c3).AsInt16();
                s0 = T.MulAddPairs(s0, Avx2.MultiplyAddAdjacent(q1, Vector256.Load(x0)), k0);
                s0 = T.MulAddPairs(s0, Avx2.MultiplyAddAdjacent(q2, Vector256.Load(x0 + 32)), k1);
                s0 = T.MulAddPairs(s0, Avx2.MultiplyAddAdjacent(q3, Vector256.Load(x0 + 64)), k2);
                s0 = T.MulAddPairs(s0, Avx2.MultiplyAddAdjacent(q4, Vector256.Load(x0 + 96)), k3);
                s1 = T.MulAddPairs(s1, Avx2.MultiplyAddAdjacent(q1, Vector256.Load(x1)), k0);
                s1 = T.MulAddPairs(s1, Avx2.MultiplyAddAdjacent(q2, Vector256.Load(x1 + 32)), k1);
                s1 = T.MulAddPairs(s1, Avx2.MultiplyAddAdjacent(q3, Vector256.Load(x1 + 64)), k2);
                s1 = T.MulAddPairs(s1, Avx2.MultiplyAddAdjacent(q4, Vector256.Load(x1 + 96)), k3);
            }
            float d = table[*(ushort*)(blk + 208)];
            acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s0), Vector256.Create(d * xd0[b]), acc0);
            acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s1), Vector256.Create(d * xd1[b]), acc1);
        }
        r0 = Vector256.Sum(acc0);
        r1 = Vector256.Sum(acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> LaneControl(int k) => Vector256.Create(
        Vector128.Create((ushort)(4 * k | (4 * k + 1) << 8)),
        Vector128.Create((ushort)((4 * k + 2) | (4 * k + 3) << 8))).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int OffsetSum(sbyte* sc, short* bs)
    {
        int s = 0;
        for (int g = 0; g < 16; g++) s += sc[g] * bs[g];
        return s;
    }
}
