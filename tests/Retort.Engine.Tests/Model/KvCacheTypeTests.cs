using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>
/// Every KV cache type against the f32 cache, on the f32 fixture model (so only the cache rounds).
/// The gap is the RMS of the logit differences over the logits' own RMS spread; the bounds follow
/// each type's rounding with room of 3-4x over what was measured: f16 keeps 11 significant bits
/// (measured 5e-4), bf16 8 bits (3.5e-3), Q8_0 rounds to max|x|/254 of each 32-element block
/// (1.0e-2), Q4_0 to max|x|/16 (0.17). A cache that misplaced, mis-scaled or mis-converted rows
/// gives a gap near 1, far past every bound.
/// </summary>
public sealed class KvCacheTypeTests
{
    public static TheoryData<KvCacheType, KvCacheType, double> Types() => new()
    {
        { KvCacheType.F16, KvCacheType.F16, 2e-3 },
        { KvCacheType.BF16, KvCacheType.BF16, 1e-2 },
        { KvCacheType.Q8_0, KvCacheType.Q8_0, 3e-2 },
        { KvCacheType.Q4_0, KvCacheType.Q4_0, 0.4 },
        { KvCacheType.Q8_0, KvCacheType.F16, 3e-2 },
        { KvCacheType.F16, KvCacheType.Q4_0, 0.4 },
    };

    [Theory]
    [MemberData(nameof(Types))]
    public void EachCacheTypeStaysCloseToTheF32Cache(KvCacheType keys, KvCacheType values, double bound)
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"));
        var t = model.Transformer;
        var prompt = ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[2];
        float[] exact = t.Forward(prompt, new KvCache(model.Config, 64), allLogits: true);
        var cache = new KvCache(model.Config, 64, keys, values);
        Assert.Equal(keys, cache.KeyType);
        Assert.Equal(values, cache.ValueType);
        float[] rounded = t.Forward(prompt, cache, allLogits: true);
        // The gap as a fraction of the logits' own spread (their RMS about the mean).
        double mean = exact.Average(e => (double)e);
        double spread = Math.Sqrt(exact.Average(e => (e - mean) * (e - mean)));
        double gap = Math.Sqrt(exact.Select((e, i) => (double)(e - rounded[i]) * (e - rounded[i])).Average()) / spread;
        Assert.True(gap < bound, $"{keys}/{values}: relative rms gap {gap}");
        Assert.True(gap > 0, "a compact cache should round something");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void EachCacheTypeDecodesIncrementallyLikeOneBatch(KvCacheType keys, KvCacheType values, double bound)
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"));
        var t = model.Transformer;
        var prompt = ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[1];
        float[] whole = t.Forward(prompt, new KvCache(model.Config, 64, keys, values), allLogits: true);
        var cache = new KvCache(model.Config, 64, keys, values);
        int vocab = model.Config.VocabSize;
        // The same stored rows either way: only the order of the float sums differs.
        for (int i = 0; i < prompt.Length; i++)
        {
            float[] step = t.Forward(prompt.AsSpan(i, 1), cache);
            for (int v = 0; v < vocab; v++)
                Assert.True(Math.Abs(step[v] - whole[i * vocab + v]) < 1e-3, $"{keys}/{values} position {i}, token {v}: {step[v]} vs {whole[i * vocab + v]}");
        }
        Assert.True(bound > 0);
    }

    [Fact]
    public void QuantizedTypesNeedAHeadDimensionOfWholeBlocks()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));
        Assert.Equal(16, model.Config.HeadDim);
        var ex = Assert.Throws<RetortException>(() => new KvCache(model.Config, 64, KvCacheType.Q8_0, KvCacheType.F16));
        Assert.Contains("--cache-type-k q8_0 needs a head dimension that is a multiple of 32; this model's is 16", ex.Message);
        var ok = new KvCache(model.Config, 64, KvCacheType.BF16, KvCacheType.F16);
        Assert.Equal(KvCacheType.BF16, ok.KeyType);
    }

    [Fact]
    public void BytesPerTokenMatchGgmlsRowSizes()
    {
        // R1-Distill-Qwen-1.5B: 28 layers, 2 KV heads of 128: llama.cpp's f16 cache is 28 KiB a token.
        var config = new ModelConfig
        {
            Architecture = "qwen2", HiddenSize = 1536, LayerCount = 28, HeadCount = 12, KvHeadCount = 2, HeadDim = 128,
            FeedForwardSize = 8960, VocabSize = 151936, ContextLength = 131072, RmsNormEps = 1e-6f, RopeTheta = 10000, RopeLayout = RopeLayout.NeoX,
        };
        Assert.Equal(28L * 2 * 2 * 128 * 4, KvCacheFormat.BytesPerToken(config, KvCacheType.F32, KvCacheType.F32));
        Assert.Equal(28L * 2 * 2 * 128 * 2, KvCacheFormat.BytesPerToken(config, KvCacheType.F16, KvCacheType.F16));
        Assert.Equal(28L * 2 * 2 * 4 * 34, KvCacheFormat.BytesPerToken(config, KvCacheType.Q8_0, KvCacheType.Q8_0));
        Assert.Equal(28L * 2 * 2 * 4 * 18, KvCacheFormat.BytesPerToken(config, KvCacheType.Q4_0, KvCacheType.Q4_0));
        Assert.Equal(28L * 2 * (4 * 34 + 128 * 2), KvCacheFormat.BytesPerToken(config, KvCacheType.Q8_0, KvCacheType.F16));
    }
}
