using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Retort.Engine.Kernels;

/// <summary>Dot product of a float weight row with float activations.</summary>
internal static unsafe class DotF32
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* w, float* x, int n) => Dot(KernelPaths.Best, w, x, n);

    public static float Dot(KernelPath path, float* w, float* x, int n) => path switch
    {
        KernelPath.AvxVnni or KernelPath.Avx2 => DotVector256(w, x, n),
        KernelPath.Vector128 => DotVector128(w, x, n),
        _ => DotScalar(w, x, n),
    };

    public static float DotScalar(float* w, float* x, int n)
    {
        float sum = 0;
        for (int i = 0; i < n; i++) sum += w[i] * x[i];
        return sum;
    }

    public static float DotVector256(float* w, float* x, int n)
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(w + i), Vector256.Load(x + i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + i + 8), Vector256.Load(x + i + 8), acc1);
        }
        float sum = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++) sum += w[i] * x[i];
        return sum;
    }

    public static float DotVector128(float* w, float* x, int n)
    {
        var acc0 = Vector128<float>.Zero;
        var acc1 = Vector128<float>.Zero;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            acc0 = Vector128.FusedMultiplyAdd(Vector128.Load(w + i), Vector128.Load(x + i), acc0);
            acc1 = Vector128.FusedMultiplyAdd(Vector128.Load(w + i + 4), Vector128.Load(x + i + 4), acc1);
        }
        float sum = Vector128.Sum(acc0 + acc1);
        for (; i < n; i++) sum += w[i] * x[i];
        return sum;
    }
}
