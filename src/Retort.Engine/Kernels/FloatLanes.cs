using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// The float operations a kernel body needs, at one vector width. Kernels are generic over it
/// (as TensorPrimitives' operators are), so one body serves 512, 256 and 128 bits and the JIT
/// specializes each width with the calls inlined.
/// </summary>
internal unsafe interface IFloatLanes<TV> where TV : struct
{
    static abstract int Count { get; }

    static abstract TV Zero { get; }

    static abstract TV Load(float* p);

    static abstract void Store(float* p, TV v);

    static abstract TV Splat(float x);

    /// <summary>a · b + c.</summary>
    static abstract TV Fma(TV a, TV b, TV c);

    static abstract TV Mul(TV a, TV b);

    static abstract TV Add(TV a, TV b);

    static abstract TV Sub(TV a, TV b);

    static abstract TV Max(TV a, TV b);

    static abstract TV Exp(TV a);

    /// <summary>Lanes of <paramref name="s"/> where <paramref name="keyPosition"/> ≤ <paramref name="queryPositions"/>, the others −∞ (a select, so garbage in s never leaks).</summary>
    static abstract TV Causal(TV s, TV queryPositions, float keyPosition);

    /// <summary>The horizontal sums of four vectors, into dst[0], dst[stride], dst[2·stride], dst[3·stride] (one shared reduction).</summary>
    static abstract void Sum4(TV a, TV b, TV c, TV d, float* dst, int stride);

    static abstract float Sum(TV a);
}

internal readonly unsafe struct Lanes512 : IFloatLanes<Vector512<float>>
{
    public static int Count => 16;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector512<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Splat(float x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> a) => Vector512.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Causal(Vector512<float> s, Vector512<float> queryPositions, float keyPosition) =>
        Vector512.ConditionalSelect(Vector512.LessThanOrEqual(Vector512.Create(keyPosition), queryPositions), s, Vector512.Create(float.NegativeInfinity));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sum4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* dst, int stride) =>
        Lanes256.Sum4(a.GetLower() + a.GetUpper(), b.GetLower() + b.GetUpper(), c.GetLower() + c.GetUpper(), d.GetLower() + d.GetUpper(), dst, stride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> a) => Vector512.Sum(a);
}

internal readonly unsafe struct Lanes256 : IFloatLanes<Vector256<float>>
{
    public static int Count => 8;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector256<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Splat(float x) => Vector256.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> a) => Vector256.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Causal(Vector256<float> s, Vector256<float> queryPositions, float keyPosition) =>
        Vector256.ConditionalSelect(Vector256.LessThanOrEqual(Vector256.Create(keyPosition), queryPositions), s, Vector256.Create(float.NegativeInfinity));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sum4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d, float* dst, int stride)
    {
        Vector128<float> r;
        if (Avx.IsSupported)
        {
            // Pairwise adds leave [Σa Σb Σc Σd] split over the two 128-bit halves.
            var h = Avx.HorizontalAdd(Avx.HorizontalAdd(a, b), Avx.HorizontalAdd(c, d));
            r = h.GetLower() + h.GetUpper();
        }
        else
        {
            r = Vector128.Create(Vector256.Sum(a), Vector256.Sum(b), Vector256.Sum(c), Vector256.Sum(d));
        }
        dst[0] = r.GetElement(0);
        dst[stride] = r.GetElement(1);
        dst[2 * stride] = r.GetElement(2);
        dst[3 * stride] = r.GetElement(3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> a) => Vector256.Sum(a);
}

internal readonly unsafe struct Lanes128 : IFloatLanes<Vector128<float>>
{
    public static int Count => 4;

    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* p) => Vector128.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector128<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Splat(float x) => Vector128.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Mul(Vector128<float> a, Vector128<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sub(Vector128<float> a, Vector128<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> a) => Vector128.Exp(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Causal(Vector128<float> s, Vector128<float> queryPositions, float keyPosition) =>
        Vector128.ConditionalSelect(Vector128.LessThanOrEqual(Vector128.Create(keyPosition), queryPositions), s, Vector128.Create(float.NegativeInfinity));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sum4(Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d, float* dst, int stride)
    {
        dst[0] = Vector128.Sum(a);
        dst[stride] = Vector128.Sum(b);
        dst[2 * stride] = Vector128.Sum(c);
        dst[3 * stride] = Vector128.Sum(d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> a) => Vector128.Sum(a);
}
