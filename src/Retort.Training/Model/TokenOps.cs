using Retort.Engine.Kernels;
using Retort.Engine.Model;
using Retort.Training.Kernels;

namespace Retort.Training.Model;

/// <summary>
/// The per-token pieces of the decoder, forward and backward: RMSNorm, rotary embedding, SwiGLU.
/// Each runs over token ranges on the pool; float32 throughout, in the order transformers computes.
/// </summary>
internal static class TokenOps
{
    private const int Grain = 16;

    /// <summary>y = x · rstd · w per token, keeping rstd = 1/√(mean(x²)+eps) for the backward pass.</summary>
    public static void RmsNorm(ParallelRange range, float[] x, float[] weight, float eps, float[] y, float[] rstd, int n, int width) =>
        range.For(n, Grain, (begin, end) =>
        {
            for (int t = begin; t < end; t++)
            {
                var xs = x.AsSpan(t * width, width);
                float r = 1f / MathF.Sqrt(VectorMath.Dot(xs, xs) / width + eps);
                rstd[t] = r;
                var ys = y.AsSpan(t * width, width);
                for (int i = 0; i < width; i++) ys[i] = xs[i] * r * weight[i];
            }
        });

    /// <summary>
    /// Adds d loss / d x to dx given dy: with g = dy·w, dx = r·g − r³·x·(g·x)/width; and adds
    /// Σ_t dy·x·r to the weight's gradient when it trains.
    /// </summary>
    public static void RmsNormBackward(ParallelRange range, float[] x, float[] rstd, Parameter weight, float[] dy, float[] dx, int n, int width)
    {
        var w = weight.Value;
        range.For(n, Grain, (begin, end) =>
        {
            Span<float> g = width <= 4096 ? stackalloc float[width] : new float[width];
            for (int t = begin; t < end; t++)
            {
                var xs = x.AsSpan(t * width, width);
                var dys = dy.AsSpan(t * width, width);
                float r = rstd[t];
                for (int i = 0; i < width; i++) g[i] = dys[i] * w[i];
                float dot = VectorMath.Dot(g, xs);
                float c = r * r * r * dot / width;
                var dxs = dx.AsSpan(t * width, width);
                for (int i = 0; i < width; i++) dxs[i] += r * g[i] - c * xs[i];
            }
        });
        if (!weight.Trainable) return;
        // Serial over tokens: the weight gradient is one shared row.
        var dw = weight.Gradient;
        for (int t = 0; t < n; t++)
        {
            float r = rstd[t];
            for (int i = 0; i < width; i++) dw[i] += dy[t * width + i] * x[t * width + i] * r;
        }
    }

    /// <summary>cos and sin of position · inverse frequency for positions 0..maxPosition, [position, half].</summary>
    public static (float[] Cos, float[] Sin) RopeTables(ReadOnlySpan<float> inverseFrequencies, int maxPosition)
    {
        int half = inverseFrequencies.Length;
        var cos = new float[(maxPosition + 1) * half];
        var sin = new float[(maxPosition + 1) * half];
        for (int p = 0; p <= maxPosition; p++)
            for (int i = 0; i < half; i++)
            {
                float angle = p * inverseFrequencies[i];
                cos[p * half + i] = MathF.Cos(angle);
                sin[p * half + i] = MathF.Sin(angle);
            }
        return (cos, sin);
    }

    /// <summary>
    /// Rotates each head of each token by its position; <paramref name="inverse"/> rotates back, which
    /// is the backward pass (the rotation's transpose).
    /// </summary>
    public static void Rope(ParallelRange range, float[] data, int heads, int headDim, RopeLayout layout, int[] positions,
        float[] cos, float[] sin, int n, bool inverse)
    {
        int half = headDim / 2, stride = heads * headDim;
        float sign = inverse ? -1f : 1f;
        range.For(n, Grain, (begin, end) =>
        {
            for (int t = begin; t < end; t++)
            {
                int table = positions[t] * half;
                for (int h = 0; h < heads; h++)
                {
                    var x = data.AsSpan(t * stride + h * headDim, headDim);
                    for (int i = 0; i < half; i++)
                    {
                        float c = cos[table + i], s = sign * sin[table + i];
                        int ia = layout == RopeLayout.NeoX ? i : 2 * i;
                        int ib = layout == RopeLayout.NeoX ? i + half : 2 * i + 1;
                        float a = x[ia], b = x[ib];
                        x[ia] = a * c - b * s;
                        x[ib] = b * c + a * s;
                    }
                }
            }
        });
    }

    /// <summary>act = silu(gate) · up.</summary>
    public static void SwiGlu(ParallelRange range, float[] gate, float[] up, float[] act, int count) =>
        range.For(count, 4096, (begin, end) =>
        {
            for (int i = begin; i < end; i++)
            {
                float g = gate[i];
                act[i] = g / (1f + MathF.Exp(-g)) * up[i];
            }
        });

    /// <summary>dGate = dAct·up·σ(g)(1 + g(1−σ(g))), dUp = dAct·silu(g).</summary>
    public static void SwiGluBackward(ParallelRange range, float[] gate, float[] up, float[] dAct, float[] dGate, float[] dUp, int count) =>
        range.For(count, 4096, (begin, end) =>
        {
            for (int i = begin; i < end; i++)
            {
                float g = gate[i];
                float sigmoid = 1f / (1f + MathF.Exp(-g));
                dUp[i] = dAct[i] * g * sigmoid;
                dGate[i] = dAct[i] * up[i] * sigmoid * (1f + g * (1f - sigmoid));
            }
        });
}
