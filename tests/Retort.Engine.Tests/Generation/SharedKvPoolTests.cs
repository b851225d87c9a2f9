using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Sampling;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Generation;

/// <summary>Generators whose caches take pages from one pool, as a server's slots do.</summary>
public sealed class SharedKvPoolTests
{
    private static string TinyModel => Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf");

    [Fact]
    public void GeneratorsOnASharedPoolAnswerAsTheyDoAloneAndGiveTheirPagesBack()
    {
        using var model = LoadedModel.Load(TinyModel);
        var options = SamplingOptions.Greedy with { MaxTokens = 300, IgnoreEos = true };
        int[] a = model.Tokenizer.Encode("first conversation", addSpecialTokens: true);
        int[] b = model.Tokenizer.Encode("a second, different one", addSpecialTokens: true);
        var aloneA = new Generator(model, 1024).Generate(a, options).Tokens;
        var aloneB = new Generator(model, 1024).Generate(b, options).Tokens;

        var pool = new KvPagePool(model.Config, KvCacheType.F32, KvCacheType.F32, maxPages: 8);
        var first = new Generator(model, new KvCache(pool, 1024));
        var second = new Generator(model, new KvCache(pool, 1024));
        Assert.Equal(aloneA, first.Generate(a, options).Tokens);
        Assert.Equal(aloneB, second.Generate(b, options).Tokens);

        // Each holds the pages of its positions (over 256: two pages each), and nothing more was made.
        Assert.Equal(2, first.Cache.PageCount);
        Assert.Equal(2, second.Cache.PageCount);
        Assert.Equal(4, pool.InUse);
        Assert.Equal(4 * pool.PageBytes, pool.AllocatedBytes);
        Assert.Equal(first.Cache.AllocatedBytes + second.Cache.AllocatedBytes, pool.AllocatedBytes);

        first.ReleaseCache();
        Assert.Empty(first.CachedTokens);
        Assert.Equal(0, first.Cache.Length);
        Assert.Equal(2, pool.InUse);
        // Released pages are reused, not made anew.
        Assert.Equal(aloneA, first.Generate(a, options).Tokens);
        Assert.Equal(4 * pool.PageBytes, pool.AllocatedBytes);
        second.ReleaseCache();
        first.ReleaseCache();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void ReservationsAreBoundedByThePool()
    {
        using var model = LoadedModel.Load(TinyModel);
        var pool = new KvPagePool(model.Config, KvCacheType.F32, KvCacheType.F32, maxPages: 4);
        Assert.True(pool.TryReserve(3));
        Assert.False(pool.TryReserve(2));
        Assert.True(pool.TryReserve(1));
        Assert.Equal(4, pool.Reserved);
        pool.Unreserve(4);
        Assert.Equal(0, pool.Reserved);
    }

    [Fact]
    public void ACacheOfAnotherModelIsRefused()
    {
        using var tiny = LoadedModel.Load(TinyModel);
        using var micro = LoadedModel.Load(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));
        var cache = new KvCache(new KvPagePool(micro.Config, KvCacheType.F32, KvCacheType.F32, 2), 256);
        Assert.Throws<ArgumentException>(() => new Generator(tiny, cache));
    }
}
