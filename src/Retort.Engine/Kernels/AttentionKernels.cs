using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// The two loops of attention over a float32 KV cache, for one query head: scores against every
/// key row, and the score-weighted sum of the value rows. Rows are <c>stride</c> floats apart
/// (the cache interleaves the KV heads). Written for the shapes of prompts, where a head attends
/// to hundreds of positions: scores go four keys at a time and share one horizontal reduction;
/// the weighted sum keeps 32 output floats in registers across all positions instead of loading
/// and storing the output once per position.
/// </summary>
internal static unsafe class AttentionKernels
{
    /// <summary>scores[p] = scale · q·keys[p] for p &lt; count; each key row holds hd floats.</summary>
    public static void Scores(float* q, float* keys, long stride, int count, int hd, float scale, float* scores)
    {
        if (!Avx.IsSupported || hd % 8 != 0)
        {
            ScoresScalar(q, keys, stride, count, hd, scale, scores);
            return;
        }
        int p = 0;
        for (; p + 4 <= count; p += 4)
        {
            float* k0 = keys + p * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int d = 0; d < hd; d += 8)
            {
                var vq = Vector256.Load(q + d);
                a0 = Vector256.FusedMultiplyAdd(vq, Vector256.Load(k0 + d), a0);
                a1 = Vector256.FusedMultiplyAdd(vq, Vector256.Load(k1 + d), a1);
                a2 = Vector256.FusedMultiplyAdd(vq, Vector256.Load(k2 + d), a2);
                a3 = Vector256.FusedMultiplyAdd(vq, Vector256.Load(k3 + d), a3);
            }
            // Four 8-lane sums at once: pairwise adds leave [s0 s1 s2 s3] in each 128-bit half.
            var h = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            var sums = h.GetLower() + h.GetUpper();
            (sums * Vector128.Create(scale)).Store(scores + p);
        }
        for (; p < count; p++)
        {
            float* k = keys + p * stride;
            Vector256<float> a = default;
            for (int d = 0; d < hd; d += 8) a = Vector256.FusedMultiplyAdd(Vector256.Load(q + d), Vector256.Load(k + d), a);
            scores[p] = Vector256.Sum(a) * scale;
        }
    }

    /// <summary>The reference for <see cref="Scores"/>.</summary>
    public static void ScoresScalar(float* q, float* keys, long stride, int count, int hd, float scale, float* scores)
    {
        for (int p = 0; p < count; p++)
        {
            float s = 0;
            for (int d = 0; d < hd; d++) s += q[d] * keys[p * stride + d];
            scores[p] = s * scale;
        }
    }

    /// <summary>o[0..hd) = Σ_p weights[p] · values[p] for p &lt; count (o is overwritten).</summary>
    public static void WeightedSum(float* o, float* values, long stride, float* weights, int count, int hd)
    {
        if (!Vector256.IsHardwareAccelerated || hd % 32 != 0)
        {
            WeightedSumScalar(o, values, stride, weights, count, hd);
            return;
        }
        for (int d = 0; d < hd; d += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* v = values + d;
            for (int p = 0; p < count; p++, v += stride)
            {
                var w = Vector256.Create(weights[p]);
                a0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v), a0);
                a1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 24), a3);
            }
            a0.Store(o + d);
            a1.Store(o + d + 8);
            a2.Store(o + d + 16);
            a3.Store(o + d + 24);
        }
    }

    /// <summary>The reference for <see cref="WeightedSum"/>.</summary>
    public static void WeightedSumScalar(float* o, float* values, long stride, float* weights, int count, int hd)
    {
        for (int d = 0; d < hd; d++)
        {
            float s = 0;
            for (int p = 0; p < count; p++) s += weights[p] * values[p * stride + d];
            o[d] = s;
        }
    }

    /// <summary><see cref="Scores"/> over an f16 cache: keys widened to float inside the dot products.</summary>
    public static void ScoresF16(float* q, ushort* keys, long stride, int count, int hd, float scale, float* scores)
    {
        if (!Avx2.IsSupported || hd % 8 != 0)
        {
            ScoresF16Scalar(q, keys, stride, count, hd, scale, scores);
            return;
        }
        int p = 0;
        for (; p + 4 <= count; p += 4)
        {
            ushort* k0 = keys + p * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int d = 0; d < hd; d += 8)
            {
                var vq = Vector256.Load(q + d);
                a0 = Vector256.FusedMultiplyAdd(vq, Widen(k0 + d), a0);
                a1 = Vector256.FusedMultiplyAdd(vq, Widen(k1 + d), a1);
                a2 = Vector256.FusedMultiplyAdd(vq, Widen(k2 + d), a2);
                a3 = Vector256.FusedMultiplyAdd(vq, Widen(k3 + d), a3);
            }
            var h = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            ((h.GetLower() + h.GetUpper()) * Vector128.Create(scale)).Store(scores + p);
        }
        for (; p < count; p++)
        {
            ushort* k = keys + p * stride;
            Vector256<float> a = default;
            for (int d = 0; d < hd; d += 8) a = Vector256.FusedMultiplyAdd(Vector256.Load(q + d), Widen(k + d), a);
            scores[p] = Vector256.Sum(a) * scale;
        }
    }

    /// <summary>The reference for <see cref="ScoresF16"/>.</summary>
    public static void ScoresF16Scalar(float* q, ushort* keys, long stride, int count, int hd, float scale, float* scores)
    {
        for (int p = 0; p < count; p++)
        {
            float s = 0;
            for (int d = 0; d < hd; d++) s += q[d] * HalfConversion.HalfToSingle(keys[p * stride + d]);
            scores[p] = s * scale;
        }
    }

    /// <summary><see cref="WeightedSum"/> over an f16 cache.</summary>
    public static void WeightedSumF16(float* o, ushort* values, long stride, float* weights, int count, int hd)
    {
        if (!Avx2.IsSupported || hd % 32 != 0)
        {
            WeightedSumF16Scalar(o, values, stride, weights, count, hd);
            return;
        }
        for (int d = 0; d < hd; d += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            ushort* v = values + d;
            for (int p = 0; p < count; p++, v += stride)
            {
                var w = Vector256.Create(weights[p]);
                a0 = Vector256.FusedMultiplyAdd(w, Widen(v), a0);
                a1 = Vector256.FusedMultiplyAdd(w, Widen(v + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(w, Widen(v + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(w, Widen(v + 24), a3);
            }
            a0.Store(o + d);
            a1.Store(o + d + 8);
            a2.Store(o + d + 16);
            a3.Store(o + d + 24);
        }
    }

    /// <summary>The reference for <see cref="WeightedSumF16"/>.</summary>
    public static void WeightedSumF16Scalar(float* o, ushort* values, long stride, float* weights, int count, int hd)
    {
        for (int d = 0; d < hd; d++)
        {
            float s = 0;
            for (int p = 0; p < count; p++) s += weights[p] * HalfConversion.HalfToSingle(values[p * stride + d]);
            o[d] = s;
        }
    }

    /// <summary>8 halves as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(ushort* h) => HalfConversion.HalfToSingle(Avx2.ConvertToVector256Int32(h).AsUInt32());
}
