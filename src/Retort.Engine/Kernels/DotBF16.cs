using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Retort.Engine.Kernels;

/// <summary>
/// Dot product of a bfloat16 weight row with float activations. bfloat16 is the top half of a
/// float, so widening and shifting left by 16 converts exactly; .NET 10 has no AVX512-BF16 API.
/// </summary>
internal static unsafe class DotBF16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ushort* w, float* x, int n) => Dot(KernelPaths.Best, w, x, n);

    public static float Dot(KernelPath path, ushort* w, float* x, int n) => path switch
    {
        KernelPath.AvxVnni or KernelPath.Avx2 => Vector512.IsHardwareAccelerated ? DotVector512(w, x, n) : DotVector256(w, x, n),
        KernelPath.Vector128 => DotVector128(w, x, n),
        _ => DotScalar(w, x, n),
    };

    public static float DotScalar(ushort* w, float* x, int n)
    {
        float sum = 0;
        for (int i = 0; i < n; i++) sum += HalfConversion.BFloat16ToSingle(w[i]) * x[i];
        return sum;
    }

    /// <summary>512-bit lanes where AVX-512 runs at full width (Zen 5, recent Intel): twice the conversions per instruction.</summary>
    public static float DotVector512(ushort* w, float* x, int n)
    {
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var v = Vector512.Load(w + i);
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(v), 16).AsSingle(), Vector512.Load(x + i), acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(v), 16).AsSingle(), Vector512.Load(x + i + 16), acc1);
        }
        float sum = Vector512.Sum(acc0 + acc1);
        for (; i < n; i++) sum += HalfConversion.BFloat16ToSingle(w[i]) * x[i];
        return sum;
    }

    public static float DotVector256(ushort* w, float* x, int n)
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            // Placing each bfloat16 in the top half of a 32-bit lane is the conversion.
            var v = Vector256.Load(w + i);
            var lo = Vector256.ShiftLeft(Vector256.WidenLower(v), 16).AsSingle();
            var hi = Vector256.ShiftLeft(Vector256.WidenUpper(v), 16).AsSingle();
            acc0 = Vector256.FusedMultiplyAdd(lo, Vector256.Load(x + i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(hi, Vector256.Load(x + i + 8), acc1);
        }
        float sum = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++) sum += HalfConversion.BFloat16ToSingle(w[i]) * x[i];
        return sum;
    }

    public static float DotVector128(ushort* w, float* x, int n)
    {
        var acc0 = Vector128<float>.Zero;
        var acc1 = Vector128<float>.Zero;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector128.Load(w + i);
            var lo = Vector128.ShiftLeft(Vector128.WidenLower(v), 16).AsSingle();
            var hi = Vector128.ShiftLeft(Vector128.WidenUpper(v), 16).AsSingle();
            acc0 = Vector128.FusedMultiplyAdd(lo, Vector128.Load(x + i), acc0);
            acc1 = Vector128.FusedMultiplyAdd(hi, Vector128.Load(x + i + 4), acc1);
        }
        float sum = Vector128.Sum(acc0 + acc1);
        for (; i < n; i++) sum += HalfConversion.BFloat16ToSingle(w[i]) * x[i];
        return sum;
    }
}
