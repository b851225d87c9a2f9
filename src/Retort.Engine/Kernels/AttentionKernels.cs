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
/// and storing the output once per position. f32 and f16 caches share one generic body.
/// </summary>
internal static unsafe class AttentionKernels
{
    /// <summary>scores[p] = scale · q·keys[p] for p &lt; count; each key row holds hd floats.</summary>
    public static void Scores(float* q, float* keys, long stride, int count, int hd, float scale, float* scores)
    {
        if (Avx.IsSupported && hd % 8 == 0) Scores<SingleRows, float>(q, keys, stride, count, hd, scale, scores);
        else ScoresScalar<SingleRows, float>(q, keys, stride, count, hd, scale, scores);
    }

    /// <summary><see cref="Scores"/> over an f16 cache: keys widened to float inside the dot products.</summary>
    public static void ScoresF16(float* q, ushort* keys, long stride, int count, int hd, float scale, float* scores)
    {
        if (Avx2.IsSupported && hd % 8 == 0) Scores<HalfRows, ushort>(q, keys, stride, count, hd, scale, scores);
        else ScoresScalar<HalfRows, ushort>(q, keys, stride, count, hd, scale, scores);
    }

    /// <summary>o[0..hd) = Σ_p weights[p] · values[p] for p &lt; count (o is overwritten).</summary>
    public static void WeightedSum(float* o, float* values, long stride, float* weights, int count, int hd)
    {
        if (Vector256.IsHardwareAccelerated && hd % 32 == 0) WeightedSum<SingleRows, float>(o, values, stride, weights, count, hd);
        else WeightedSumScalar<SingleRows, float>(o, values, stride, weights, count, hd);
    }

    /// <summary><see cref="WeightedSum"/> over an f16 cache.</summary>
    public static void WeightedSumF16(float* o, ushort* values, long stride, float* weights, int count, int hd)
    {
        if (Avx2.IsSupported && hd % 32 == 0) WeightedSum<HalfRows, ushort>(o, values, stride, weights, count, hd);
        else WeightedSumScalar<HalfRows, ushort>(o, values, stride, weights, count, hd);
    }

    public static void ScoresScalar(float* q, float* keys, long stride, int count, int hd, float scale, float* scores) =>
        ScoresScalar<SingleRows, float>(q, keys, stride, count, hd, scale, scores);

    public static void ScoresF16Scalar(float* q, ushort* keys, long stride, int count, int hd, float scale, float* scores) =>
        ScoresScalar<HalfRows, ushort>(q, keys, stride, count, hd, scale, scores);

    public static void WeightedSumScalar(float* o, float* values, long stride, float* weights, int count, int hd) =>
        WeightedSumScalar<SingleRows, float>(o, values, stride, weights, count, hd);

    public static void WeightedSumF16Scalar(float* o, ushort* values, long stride, float* weights, int count, int hd) =>
        WeightedSumScalar<HalfRows, ushort>(o, values, stride, weights, count, hd);

    private static void Scores<TRows, T>(float* q, T* keys, long stride, int count, int hd, float scale, float* scores)
        where TRows : struct, ICacheRows<T> where T : unmanaged
    {
        int p = 0;
        for (; p + 4 <= count; p += 4)
        {
            T* k0 = keys + p * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int d = 0; d < hd; d += 8)
            {
                var vq = Vector256.Load(q + d);
                a0 = Vector256.FusedMultiplyAdd(vq, TRows.Load8(k0 + d), a0);
                a1 = Vector256.FusedMultiplyAdd(vq, TRows.Load8(k1 + d), a1);
                a2 = Vector256.FusedMultiplyAdd(vq, TRows.Load8(k2 + d), a2);
                a3 = Vector256.FusedMultiplyAdd(vq, TRows.Load8(k3 + d), a3);
            }
            // Four 8-lane sums at once: pairwise adds leave [s0 s1 s2 s3] in each 128-bit half.
            var h = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            ((h.GetLower() + h.GetUpper()) * Vector128.Create(scale)).Store(scores + p);
        }
        for (; p < count; p++)
        {
            T* k = keys + p * stride;
            Vector256<float> a = default;
            for (int d = 0; d < hd; d += 8) a = Vector256.FusedMultiplyAdd(Vector256.Load(q + d), TRows.Load8(k + d), a);
            scores[p] = Vector256.Sum(a) * scale;
        }
    }

    private static void ScoresScalar<TRows, T>(float* q, T* keys, long stride, int count, int hd, float scale, float* scores)
        where TRows : struct, ICacheRows<T> where T : unmanaged
    {
        for (int p = 0; p < count; p++)
        {
            float s = 0;
            for (int d = 0; d < hd; d++) s += q[d] * TRows.Load1(keys + p * stride + d);
            scores[p] = s * scale;
        }
    }

    private static void WeightedSum<TRows, T>(float* o, T* values, long stride, float* weights, int count, int hd)
        where TRows : struct, ICacheRows<T> where T : unmanaged
    {
        for (int d = 0; d < hd; d += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            T* v = values + d;
            for (int p = 0; p < count; p++, v += stride)
            {
                var w = Vector256.Create(weights[p]);
                a0 = Vector256.FusedMultiplyAdd(w, TRows.Load8(v), a0);
                a1 = Vector256.FusedMultiplyAdd(w, TRows.Load8(v + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(w, TRows.Load8(v + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(w, TRows.Load8(v + 24), a3);
            }
            a0.Store(o + d);
            a1.Store(o + d + 8);
            a2.Store(o + d + 16);
            a3.Store(o + d + 24);
        }
    }

    private static void WeightedSumScalar<TRows, T>(float* o, T* values, long stride, float* weights, int count, int hd)
        where TRows : struct, ICacheRows<T> where T : unmanaged
    {
        for (int d = 0; d < hd; d++)
        {
            float s = 0;
            for (int p = 0; p < count; p++) s += weights[p] * TRows.Load1(values + p * stride + d);
            o[d] = s;
        }
    }

    /// <summary>How cache elements become floats: the kernels are generic over it, one body for f32 and f16 caches.</summary>
    private interface ICacheRows<T> where T : unmanaged
    {
        static abstract Vector256<float> Load8(T* p);

        static abstract float Load1(T* p);
    }

    private readonly struct SingleRows : ICacheRows<float>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(float* p) => Vector256.Load(p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(float* p) => *p;
    }

    private readonly struct HalfRows : ICacheRows<ushort>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(ushort* p) => HalfConversion.HalfToSingle(Avx2.ConvertToVector256Int32(p).AsUInt32());

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(ushort* p) => HalfConversion.HalfToSingle(*p);
    }
}
