using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// Float32 building blocks of the forward pass. Each vectorized routine has a scalar twin
/// (<c>...Scalar</c>) that defines what it must compute; tests hold the two together.
/// </summary>
internal static class VectorMath
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("length mismatch");
        int n = a.Length;
        int i = 0;
        float sum = 0f;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count * 4)
        {
            int w = Vector<float>.Count;
            ref float pa = ref MemoryMarshal.GetReference(a);
            ref float pb = ref MemoryMarshal.GetReference(b);
            Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i <= n - 4 * w; i += 4 * w)
            {
                s0 += LoadVector(ref pa, i) * LoadVector(ref pb, i);
                s1 += LoadVector(ref pa, i + w) * LoadVector(ref pb, i + w);
                s2 += LoadVector(ref pa, i + 2 * w) * LoadVector(ref pb, i + 2 * w);
                s3 += LoadVector(ref pa, i + 3 * w) * LoadVector(ref pb, i + 3 * w);
            }
            for (; i <= n - w; i += w) s0 += LoadVector(ref pa, i) * LoadVector(ref pb, i);
            sum = Vector.Sum((s0 + s1) + (s2 + s3));
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    public static float DotScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0f;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y = x / sqrt(mean(x²) + eps) * weight, as Hugging Face's RMSNorm does it in float32.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y)
    {
        float meanSquare = Dot(x, x) / x.Length;
        float scale = 1f / MathF.Sqrt(meanSquare + eps);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            var s = new Vector<float>(scale);
            for (; i <= x.Length - w; i += w)
                (new Vector<float>(x[i..]) * s * new Vector<float>(weight[i..])).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] = x[i] * scale * weight[i];
    }

    public static void RmsNormScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y)
    {
        float meanSquare = DotScalar(x, x) / x.Length;
        float scale = 1f / MathF.Sqrt(meanSquare + eps);
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * scale * weight[i];
    }

    /// <summary>In-place softmax, max-subtracted so large logits do not overflow.</summary>
    /// <summary>x = e^(x − max) / Σ e^(x − max), in place.</summary>
    public static void Softmax(Span<float> x)
    {
        int n = x.Length, i = 0;
        if (!Vector256.IsHardwareAccelerated || n < 16)
        {
            SoftmaxScalar(x);
            return;
        }
        var vmax = Vector256.Create(float.NegativeInfinity);
        for (; i <= n - 8; i += 8) vmax = Vector256.Max(vmax, Vector256.Create<float>(x[i..]));
        float max = float.NegativeInfinity;
        for (int j = 0; j < 8; j++) max = MathF.Max(max, vmax[j]);
        for (; i < n; i++) max = MathF.Max(max, x[i]);

        var vm = Vector256.Create(max);
        var vsum = Vector256<float>.Zero;
        for (i = 0; i <= n - 8; i += 8)
        {
            var e = Vector256.Exp(Vector256.Create<float>(x[i..]) - vm);
            e.CopyTo(x[i..]);
            vsum += e;
        }
        float sum = Vector256.Sum(vsum);
        for (; i < n; i++)
        {
            float e = MathF.Exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        var inv = Vector256.Create(1f / sum);
        for (i = 0; i <= n - 8; i += 8) (Vector256.Create<float>(x[i..]) * inv).CopyTo(x[i..]);
        for (; i < n; i++) x[i] *= inv[0];
    }

    /// <summary>The reference for <see cref="Softmax"/>.</summary>
    public static void SoftmaxScalar(Span<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x) max = MathF.Max(max, v);
        float sum = 0f;
        for (int i = 0; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < x.Length; i++) x[i] *= inv;
    }

    /// <summary>gate[i] = SiLU(gate[i]) · up[i], with SiLU(g) = g / (1 + e^−g).</summary>
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        if (up.Length < gate.Length) throw new ArgumentException("up is shorter than gate");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= gate.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var g = Vector512.Create<float>(gate[i..]);
                (g / (Vector512<float>.One + Vector512.Exp(-g)) * Vector512.Create<float>(up[i..])).CopyTo(gate[i..]);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= gate.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var g = Vector256.Create<float>(gate[i..]);
                (g / (Vector256<float>.One + Vector256.Exp(-g)) * Vector256.Create<float>(up[i..])).CopyTo(gate[i..]);
            }
        }
        SwiGluScalar(gate[i..], up[i..]);
    }

    /// <summary>The reference for <see cref="SwiGlu"/>.</summary>
    public static void SwiGluScalar(Span<float> gate, ReadOnlySpan<float> up)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            gate[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }

    public static void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            for (; i <= x.Length - w; i += w) (new Vector<float>(x[i..]) + new Vector<float>(y[i..])).CopyTo(x[i..]);
        }
        for (; i < x.Length; i++) x[i] += y[i];
    }

    public static void AddScaled(Span<float> y, ReadOnlySpan<float> x, float a)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            var va = new Vector<float>(a);
            for (; i <= y.Length - w; i += w) (new Vector<float>(y[i..]) + new Vector<float>(x[i..]) * va).CopyTo(y[i..]);
        }
        for (; i < y.Length; i++) y[i] += a * x[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> LoadVector(ref float start, int offset) =>
        Vector.LoadUnsafe(ref start, (nuint)offset);
}
