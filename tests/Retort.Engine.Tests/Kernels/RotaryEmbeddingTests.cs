using Retort.Engine.Kernels;
using Retort.Engine.Model;

namespace Retort.Engine.Tests.Kernels;

/// <summary>Positions inside the precomputed table and past it rotate exactly as the definition says.</summary>
public sealed class RotaryEmbeddingTests
{
    [Theory]
    [InlineData(RopeLayout.NeoX)]
    [InlineData(RopeLayout.Interleaved)]
    public void EveryPositionRotatesByItsAngles(RopeLayout layout)
    {
        var config = new ModelConfig
        {
            Architecture = "qwen2", HiddenSize = 128, LayerCount = 1, HeadCount = 2, KvHeadCount = 1, HeadDim = 64,
            FeedForwardSize = 64, VocabSize = 16, ContextLength = 131072, RmsNormEps = 1e-6f, RopeTheta = 1e6f, RopeLayout = layout,
        };
        var rope = new RotaryEmbedding(config);
        float[] inv = RotaryEmbedding.InverseFrequenciesOf(config);
        var r = new Random(5);
        // Table positions, slot positions, and going back and forth between them.
        foreach (int position in new[] { 0, 17, 4095, 4096, 33000, 33000, 5, 100_000, 4097, 33000 })
        {
            float[] x = Enumerable.Range(0, 128).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
            float[] expected = (float[])x.Clone();
            for (int h = 0; h < 128; h += 64)
                for (int i = 0; i < 32; i++)
                {
                    float angle = position * inv[i], c = MathF.Cos(angle), s = MathF.Sin(angle);
                    int ia = layout == RopeLayout.NeoX ? h + i : h + 2 * i, ib = layout == RopeLayout.NeoX ? h + i + 32 : h + 2 * i + 1;
                    float a = x[ia], b = x[ib];
                    expected[ia] = a * c - b * s;
                    expected[ib] = b * c + a * s;
                }
            rope.Apply(x, position);
            Assert.Equal(expected, x);
        }
    }
}
