using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// Quantizes float activations to signed 8-bit blocks so the dot products can multiply bytes by
/// bytes. Q8 blocks hold 32 values (paired with Q8_0 / Q4_0 weights); Q8K blocks hold 256 values
/// with per-16 partial sums (paired with K-quants, whose per-sub-block minimums and offsets then
/// cost one small multiply per 16 values instead of a pass over the data).
/// Both paths scale by max|x|/127 and round to nearest even, so they produce identical bytes.
/// </summary>
internal static unsafe class ActivationQuantizer
{
    public const int Q8Block = 32;
    public const int Q8KBlock = 256;

    /// <summary>
    /// n values (a multiple of 32) to q (n bytes), d (n/32 scales) and s (n/32 values d*Σq, which
    /// lets unsigned-weight kernels remove their offset with one multiply per block).
    /// </summary>
    public static void QuantizeQ8(float* x, int n, sbyte* q, float* d, float* s)
    {
        if (Vector256.IsHardwareAccelerated) QuantizeQ8Vector256(x, n, q, d, s);
        else QuantizeQ8Scalar(x, n, q, d, s);
    }

    /// <summary>n values (a multiple of 256) to q (n bytes), d (n/256 scales), bsums (n/16 sums of q).</summary>
    public static void QuantizeQ8K(float* x, int n, sbyte* q, float* d, short* bsums)
    {
        if (Vector256.IsHardwareAccelerated) QuantizeQ8KVector256(x, n, q, d, bsums);
        else QuantizeQ8KScalar(x, n, q, d, bsums);
    }

    public static void QuantizeQ8Scalar(float* x, int n, sbyte* q, float* d, float* s)
    {
        for (int b = 0; b < n / Q8Block; b++)
        {
            float* xb = x + b * Q8Block;
            float amax = 0;
            for (int i = 0; i < Q8Block; i++) amax = MathF.Max(amax, MathF.Abs(xb[i]));
            float scale = amax / 127f;
            float inv = amax > 0 ? 127f / amax : 0f;
            int sum = 0;
            for (int i = 0; i < Q8Block; i++)
            {
                int v = (int)MathF.Round(xb[i] * inv);
                q[b * Q8Block + i] = (sbyte)v;
                sum += v;
            }
            d[b] = scale;
            s[b] = scale * sum;
        }
    }

    public static void QuantizeQ8Vector256(float* x, int n, sbyte* q, float* d, float* s)
    {
        for (int b = 0; b < n / Q8Block; b++)
        {
            float* xb = x + b * Q8Block;
            var v0 = Vector256.Load(xb);
            var v1 = Vector256.Load(xb + 8);
            var v2 = Vector256.Load(xb + 16);
            var v3 = Vector256.Load(xb + 24);
            float amax = MaxAcross(Vector256.Max(
                Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)),
                Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3))));
            float scale = amax / 127f;
            var inv = Vector256.Create(amax > 0 ? 127f / amax : 0f);
            var i0 = Vector256.ConvertToInt32(Vector256.Round(v0 * inv));
            var i1 = Vector256.ConvertToInt32(Vector256.Round(v1 * inv));
            var i2 = Vector256.ConvertToInt32(Vector256.Round(v2 * inv));
            var i3 = Vector256.ConvertToInt32(Vector256.Round(v3 * inv));
            var bytes = Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3));
            bytes.Store(q + b * Q8Block);
            d[b] = scale;
            s[b] = scale * Vector256.Sum((i0 + i1) + (i2 + i3));
        }
    }

    public static void QuantizeQ8KScalar(float* x, int n, sbyte* q, float* d, short* bsums)
    {
        for (int b = 0; b < n / Q8KBlock; b++)
        {
            float* xb = x + b * Q8KBlock;
            sbyte* qb = q + b * Q8KBlock;
            float amax = 0;
            for (int i = 0; i < Q8KBlock; i++) amax = MathF.Max(amax, MathF.Abs(xb[i]));
            float inv = amax > 0 ? 127f / amax : 0f;
            for (int i = 0; i < Q8KBlock; i++) qb[i] = (sbyte)(int)MathF.Round(xb[i] * inv);
            for (int g = 0; g < Q8KBlock / 16; g++)
            {
                int sum = 0;
                for (int i = 0; i < 16; i++) sum += qb[g * 16 + i];
                bsums[b * 16 + g] = (short)sum;
            }
            d[b] = amax / 127f;
        }
    }

    public static void QuantizeQ8KVector256(float* x, int n, sbyte* q, float* d, short* bsums)
    {
        for (int b = 0; b < n / Q8KBlock; b++)
        {
            float* xb = x + b * Q8KBlock;
            sbyte* qb = q + b * Q8KBlock;
            var m = Vector256<float>.Zero;
            for (int i = 0; i < Q8KBlock; i += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(xb + i)));
            float amax = MaxAcross(m);
            var inv = Vector256.Create(amax > 0 ? 127f / amax : 0f);
            for (int i = 0; i < Q8KBlock; i += 16)
            {
                var i0 = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i) * inv));
                var i1 = Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i + 8) * inv));
                Vector256<short> all = Vector256.Narrow(i0, i1);
                Vector128.Narrow(all.GetLower(), all.GetUpper()).Store(qb + i);
                bsums[b * 16 + i / 16] = (short)Vector256.Sum(i0 + i1);
            }
            d[b] = amax / 127f;
        }
    }

    /// <summary>
    /// Sums of each group of 4 consecutive q (n/4 ints). The 256-bit kernels start each block's
    /// vpdpbusd accumulator at −offset·(these sums), which removes an unsigned weight encoding's
    /// offset without any per-row work.
    /// </summary>
    public static void GroupSums4(sbyte* q, int n, int* sums)
    {
        int i = 0;
        if (Avx2.IsSupported)
        {
            var ones8 = Vector256.Create((byte)1);
            var ones16 = Vector256.Create((short)1);
            for (; i + 32 <= n; i += 32)
                Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(ones8, Vector256.Load(q + i)), ones16).Store(sums + i / 4);
        }
        for (; i < n; i += 4) sums[i / 4] = q[i] + q[i + 1] + q[i + 2] + q[i + 3];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAcross(Vector256<float> v)
    {
        Vector128<float> m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }
}
