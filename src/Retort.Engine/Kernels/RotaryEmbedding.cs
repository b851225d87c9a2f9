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

    // cos and sin of every angle for the first TablePositions positions, computed once per position
    // rather than for every layer, token and q/k (a prompt of 128 tokens on a 28-layer model otherwise
    // takes ~900k sin/cos calls per pass). Later positions are computed when first needed into a
    // one-position slot that the 2 × layers calls of a decode step share: a table grown to a 32k
    // context would hold 17-32 MiB for values that each serve one step.
    private const int TablePositions = 4096;
    private float[] _cos = [];
    private float[] _sin = [];
    private int _positions;
    private readonly float[] _slotCos, _slotSin;
    private int _slotPosition = -1;

    public RotaryEmbedding(ModelConfig config)
    {
        _headDim = config.HeadDim;
        _layout = config.RopeLayout;
        _inverseFrequencies = InverseFrequenciesOf(config);
        // The first 4096 positions up front (2 MiB at head size 128), so generation allocates nothing.
        Fill(Math.Clamp(config.ContextLength, 1, TablePositions));
        _slotCos = new float[_headDim / 2];
        _slotSin = new float[_headDim / 2];
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
        if (position >= _positions && position < TablePositions) Fill(TablePositions);
        ReadOnlySpan<float> cos, sin;
        if (position < _positions)
        {
            cos = _cos.AsSpan(position * half, half);
            sin = _sin.AsSpan(position * half, half);
        }
        else
        {
            if (_slotPosition != position)
            {
                Angles(position, _slotCos, _slotSin);
                _slotPosition = position;
            }
            cos = _slotCos;
            sin = _slotSin;
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

    /// <summary>Makes the tables hold the first <paramref name="positions"/> positions.</summary>
    private void Fill(int positions)
    {
        int half = _headDim / 2;
        var cos = new float[positions * half];
        var sin = new float[positions * half];
        for (int p = 0; p < positions; p++) Angles(p, cos.AsSpan(p * half, half), sin.AsSpan(p * half, half));
        _cos = cos;
        _sin = sin;
        _positions = positions;
    }

    // One definition of the angles, so a table entry and a slot computed later are the same floats.
    private void Angles(int position, Span<float> cos, Span<float> sin)
    {
        for (int i = 0; i < cos.Length; i++)
        {
            float angle = position * _inverseFrequencies[i];
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
        }
    }
}
