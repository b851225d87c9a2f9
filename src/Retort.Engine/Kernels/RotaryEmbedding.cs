using Retort.Engine.Model;

namespace Retort.Engine.Kernels;

/// <summary>
/// Rotary position embedding. The angle of pair i at position p is p · θ^(-2i/d) (divided by the
/// Llama 3.1 frequency factor when the model has one), computed in float32 as transformers does.
/// </summary>
internal sealed class RotaryEmbedding
{
    private readonly float[] _inverseFrequencies;
    private readonly RopeLayout _layout;
    private readonly int _headDim;

    // cos and sin of every angle for positions [0, _positions): the same values Apply would compute,
    // computed once per position rather than for every layer, token and q/k (a prompt of 128 tokens
    // on a 28-layer model otherwise takes ~900k sin/cos calls per pass).
    private float[] _cos = [];
    private float[] _sin = [];
    private int _positions;

    public RotaryEmbedding(ModelConfig config)
    {
        _headDim = config.HeadDim;
        _layout = config.RopeLayout;
        _inverseFrequencies = InverseFrequenciesOf(config);
        // The first 4096 positions up front (2 MiB at head size 128), so generation within them allocates nothing.
        Grow(Math.Clamp(config.ContextLength, 1, 4096));
    }

    /// <summary>
    /// The angle per position of each rotary pair of a model (training builds its cos/sin tables from
    /// them without the inference tables a <see cref="RotaryEmbedding"/> precomputes).
    /// </summary>
    public static float[] InverseFrequenciesOf(ModelConfig config)
    {
        int headDim = config.HeadDim;
        var frequencies = new float[headDim / 2];
        for (int i = 0; i < frequencies.Length; i++)
        {
            float invFreq = (float)(1.0 / Math.Pow(config.RopeTheta, 2.0 * i / headDim));
            if (config.RopeFrequencyFactors is { } f) invFreq /= f[i];
            if (config.RopeFrequenciesRoundedToBf16) invFreq = Quantization.Fp16.BF16ToFloat(Quantization.Fp16.FloatToBF16(invFreq));
            frequencies[i] = invFreq;
        }
        return frequencies;
    }

    /// <summary>Rotates every head in <paramref name="heads"/> (headCount × headDim) in place for one position.</summary>
    public void Apply(Span<float> heads, int position)
    {
        int half = _headDim / 2;
        if (position >= _positions) Grow(position + 1);
        ReadOnlySpan<float> cos = _cos.AsSpan(position * half, half);
        ReadOnlySpan<float> sin = _sin.AsSpan(position * half, half);
        for (int h = 0; h < heads.Length; h += _headDim)
        {
            Span<float> x = heads.Slice(h, _headDim);
            if (_layout == RopeLayout.NeoX)
            {
                for (int i = 0; i < half; i++)
                {
                    float a = x[i], b = x[i + half];
                    x[i] = a * cos[i] - b * sin[i];
                    x[i + half] = b * cos[i] + a * sin[i];
                }
            }
            else
            {
                for (int i = 0; i < half; i++)
                {
                    float a = x[2 * i], b = x[2 * i + 1];
                    x[2 * i] = a * cos[i] - b * sin[i];
                    x[2 * i + 1] = b * cos[i] + a * sin[i];
                }
            }
        }
    }

    /// <summary>Extends the cos/sin tables to at least <paramref name="positions"/> positions (doubling, so growth is amortized).</summary>
    private void Grow(int positions)
    {
        int half = _headDim / 2;
        // Doubling stops where a table would outgrow an array; the KV cache bounds positions below that.
        int capacity = (int)Math.Max(positions, Math.Min(2L * _positions, Array.MaxLength / half));
        var cos = new float[capacity * half];
        var sin = new float[capacity * half];
        _cos.AsSpan(0, _positions * half).CopyTo(cos);
        _sin.AsSpan(0, _positions * half).CopyTo(sin);
        for (int p = _positions; p < capacity; p++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = p * _inverseFrequencies[i];
                cos[p * half + i] = MathF.Cos(angle);
                sin[p * half + i] = MathF.Sin(angle);
            }
        }
        _cos = cos;
        _sin = sin;
        _positions = capacity;
    }
}
