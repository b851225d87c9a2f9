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

    public RotaryEmbedding(ModelConfig config)
    {
        _headDim = config.HeadDim;
        _layout = config.RopeLayout;
        _inverseFrequencies = new float[_headDim / 2];
        for (int i = 0; i < _inverseFrequencies.Length; i++)
        {
            float invFreq = (float)(1.0 / Math.Pow(config.RopeTheta, 2.0 * i / _headDim));
            if (config.RopeFrequencyFactors is { } f) invFreq /= f[i];
            if (config.RopeFrequenciesRoundedToBf16) invFreq = Quantization.Fp16.BF16ToFloat(Quantization.Fp16.FloatToBF16(invFreq));
            _inverseFrequencies[i] = invFreq;
        }
    }

    /// <summary>The angle per position of each rotary pair (training builds its cos/sin tables from them).</summary>
    public ReadOnlySpan<float> InverseFrequencies => _inverseFrequencies;

    /// <summary>Rotates every head in <paramref name="heads"/> (headCount × headDim) in place for one position.</summary>
    public void Apply(Span<float> heads, int position)
    {
        int half = _headDim / 2;
        Span<float> cos = stackalloc float[half];
        Span<float> sin = stackalloc float[half];
        for (int i = 0; i < half; i++)
        {
            float angle = position * _inverseFrequencies[i];
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
        }
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
}
