using Retort.Engine.Kernels;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>The f16 KV cache against the f32 one, on the f32 fixture model (so only the cache rounds).</summary>
public sealed class KvCacheTypeTests
{
    [Fact]
    public void F16CacheStaysCloseToTheF32Cache()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"));
        var t = model.Transformer;
        var prompt = ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[2];
        float[] exact = t.Forward(prompt, t.CreateCache(64), allLogits: true);
        var f16 = new KvCache(model.Config, 64, KvCacheType.F16);
        Assert.Equal(KvCacheType.F16, f16.Type);
        float[] rounded = t.Forward(prompt, f16, allLogits: true);
        // Keys and values rounded to 11 significant bits (relative 2^-11 ≈ 5e-4) move these logits,
        // which span about ±3, by ~1e-3; a cache that misplaced or mis-converted a row moves them by units.
        double gap = exact.Select((e, i) => (double)Math.Abs(e - rounded[i])).Max();
        Assert.True(gap < 2e-2, $"max gap {gap}");
        Assert.True(gap > 0, "the f16 cache should round something");
    }

    [Fact]
    public void F16CacheDecodesIncrementallyLikeOneBatch()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"));
        var t = model.Transformer;
        var prompt = ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[1];
        float[] whole = t.Forward(prompt, new KvCache(model.Config, 64, KvCacheType.F16), allLogits: true);
        var cache = new KvCache(model.Config, 64, KvCacheType.F16);
        int vocab = model.Config.VocabSize;
        for (int i = 0; i < prompt.Length; i++)
        {
            float[] step = t.Forward(prompt.AsSpan(i, 1), cache);
            for (int v = 0; v < vocab; v++)
                Assert.True(Math.Abs(step[v] - whole[i * vocab + v]) < 1e-3, $"position {i}, token {v}: {step[v]} vs {whole[i * vocab + v]}");
        }
    }

}
