using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Synthesis;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>
/// The default context and the KV budget, with the machine's memory given by each test rather than read
/// from this machine. Byte figures are worked out from the R1-Distill-Qwen-1.5B shape by hand: 28 layers,
/// 2 KV heads, head size 128, so a position's keys and values take 28·2·2·128·4 = 57344 bytes as f32 and
/// 28·2·2·(4 blocks·34 bytes) = 15232 bytes as q8_0.
/// </summary>
public sealed class ContextPlanTests
{
    private const long GiB = 1L << 30;
    private const long MiB = 1L << 20;

    private static readonly ModelConfig R1 = SynthPreset.Find("r1-distill-qwen-1.5b").Config;

    [Fact]
    public void TheTrainedContextIsTakenWhenItsCacheFitsTheBudget()
    {
        var r1At32k = R1 with { ContextLength = 32768 };
        var plan = ContextPlan.Decide(r1At32k, KvCacheType.Q8_0, KvCacheType.Q8_0, weightBytes: 1 * GiB, memoryBytes: 16 * GiB);
        Assert.Equal(32768, plan.Context);
        Assert.False(plan.Capped);
        Assert.Null(plan.Warning);
        Assert.Equal(15232, plan.BytesPerToken);
        Assert.Equal(32768L * 15232, plan.KvBytes);
        // Half of the 15 GiB left after the weights.
        Assert.Equal(15 * GiB / 2, plan.BudgetBytes);
        // 32768 · 15232 bytes = 476 MiB.
        Assert.Equal("context 32768 (the model's), KV cache q8_0 up to 476 MiB", plan.Statement);
    }

    [Fact]
    public void ASmallMachineCapsTheContextToTheLargestWholePageThatFits()
    {
        // 4 GiB less 1 GiB of weights leaves 3; half of that is 1.5 GiB = 1610612736 bytes, which holds
        // 28086 f32 positions: 109 whole pages, 27904 positions.
        var plan = ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, weightBytes: 1 * GiB, memoryBytes: 4 * GiB);
        Assert.Equal(27904, plan.Context);
        Assert.True(plan.Capped);
        Assert.Equal(131072, plan.TrainedContext);
        Assert.True(plan.KvBytes <= plan.BudgetBytes);
        Assert.True((plan.Context + KvCache.PageSize) * plan.BytesPerToken > plan.BudgetBytes);
        Assert.StartsWith("context 27904 (the model's 131072 would need a 7 GiB KV cache, more than the 1.5 GiB budget", plan.Statement);
        Assert.Contains("--kv-budget", plan.Statement);
        Assert.Null(plan.Warning);
    }

    [Fact]
    public void AGivenBudgetDecidesTheDefaultContext()
    {
        // 1 GiB / 57344 bytes = 18724 positions: 73 pages, 18688 positions.
        var plan = ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 64 * GiB, kvBudgetBytes: 1 * GiB);
        Assert.Equal(18688, plan.Context);
        Assert.True(plan.Capped);
        Assert.True(plan.BudgetGiven);
        Assert.Contains("(--kv-budget)", plan.Statement);
        // The same budget holds the whole trained context as q4_0 keys and values (28·2·2·72 = 8064 bytes a position, 0.98 GiB).
        var q4 = ContextPlan.Decide(R1, KvCacheType.Q4_0, KvCacheType.Q4_0, 1 * GiB, 64 * GiB, kvBudgetBytes: 1 * GiB);
        Assert.Equal(131072, q4.Context);
        Assert.False(q4.Capped);
    }

    [Fact]
    public void ZeroMeansTheDefaultAndAnExplicitContextIsKept()
    {
        var byDefault = ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 4 * GiB);
        var zero = ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 4 * GiB, requestedContext: 0);
        Assert.Equal(byDefault.Context, zero.Context);
        Assert.False(zero.ContextGiven);

        var given = ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 4 * GiB, requestedContext: 8000);
        Assert.Equal(8000, given.Context);
        Assert.True(given.ContextGiven);
        Assert.False(given.Capped);
        Assert.Equal("context 8000 (--ctx), KV cache f32 up to 437.5 MiB", given.Statement);
    }

    [Fact]
    public void AContextAboveTheTrainedOneWarnsButRuns()
    {
        var r1At32k = R1 with { ContextLength = 32768 };
        var plan = ContextPlan.Decide(r1At32k, KvCacheType.Q8_0, KvCacheType.F16, 1 * GiB, 64 * GiB, requestedContext: 65536);
        Assert.Equal(65536, plan.Context);
        Assert.NotNull(plan.Warning);
        Assert.StartsWith("warning: --ctx 65536 is above the 32768 positions the model was trained on", plan.Warning);
        Assert.Contains("RoPE", plan.Warning);
        Assert.Contains("q8_0 keys/f16 values", plan.Statement);
        Assert.Null(ContextPlan.Decide(r1At32k, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 64 * GiB, requestedContext: 32768).Warning);
    }

    [Fact]
    public void AnExplicitContextAboveTheBudgetIsAllowedWhileTheMemoryHoldsIt()
    {
        // 3 GiB left, a 1.5 GiB budget: 40000 f32 positions take 2.14 GiB.
        var plan = ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 4 * GiB, requestedContext: 40000);
        Assert.Equal(40000, plan.Context);
        Assert.Contains("above the 1.5 GiB KV budget", plan.Statement);
        // A server still holds one full context of it.
        Assert.Equal(KvCache.PagesFor(40000), plan.SharedPages(4));

        // 60000 positions take 3.2 GiB: more than the memory left.
        var e = Assert.Throws<RetortException>(() =>
            ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 4 * GiB, requestedContext: 60000));
        Assert.Contains("--ctx 60000", e.Message);
        Assert.Contains("3 GiB of memory left after the weights", e.Message);
        // 3 GiB / 57344 bytes = 56173 positions.
        Assert.Contains("the largest context that fits is 56173", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-4)]
    [InlineData(1 << 25)]
    public void AnOutOfRangeContextIsRefused(int ctx)
    {
        var e = Assert.Throws<RetortException>(() => ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 64 * GiB, requestedContext: ctx));
        Assert.Contains($"--ctx", e.Message);
        Assert.Contains($"found {ctx}", e.Message);
    }

    [Fact]
    public void ABudgetThatCannotHoldAPageOrExceedsTheMemoryIsRefused()
    {
        // A page of 256 f32 positions takes 14 MiB.
        var small = Assert.Throws<RetortException>(() => ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 4 * GiB, kvBudgetBytes: 8 * MiB));
        Assert.Contains("--kv-budget 8 MiB holds less than one page", small.Message);
        Assert.Contains("14 MiB", small.Message);
        var large = Assert.Throws<RetortException>(() => ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, 1 * GiB, 4 * GiB, kvBudgetBytes: 5 * GiB));
        Assert.Contains("--kv-budget 5 GiB is more than the 3 GiB of memory left after the weights", large.Message);
    }

    [Fact]
    public void WeightsThatFillTheMemoryStillLeaveOnePageOfContext()
    {
        var plan = ContextPlan.Decide(R1, KvCacheType.F32, KvCacheType.F32, weightBytes: 8 * GiB, memoryBytes: 4 * GiB);
        Assert.Equal(KvCache.PageSize, plan.Context);
        Assert.True(plan.Capped);
        Assert.Contains("only 0 MiB of memory is left after the weights", plan.Statement);
    }

    [Fact]
    public void ASharedPoolHoldsWhatTheBudgetAllowsAndNoMoreThanEverySlotAtFullContext()
    {
        var r1At32k = R1 with { ContextLength = 32768 };
        // A large machine: four full contexts (4 · 128 pages) fit the budget, and that is all a pool of four needs.
        var large = ContextPlan.Decide(r1At32k, KvCacheType.Q8_0, KvCacheType.Q8_0, 1 * GiB, 64 * GiB);
        Assert.Equal(4 * 128, large.SharedPages(4));
        Assert.Equal(128, large.SharedPages(1));
        // A given budget of 1 GiB: 1 GiB / (256 · 15232 bytes) = 275 pages, fewer than 4 · 128.
        var budget = ContextPlan.Decide(r1At32k, KvCacheType.Q8_0, KvCacheType.Q8_0, 1 * GiB, 64 * GiB, kvBudgetBytes: 1 * GiB);
        Assert.Equal(32768, budget.Context);
        Assert.Equal(275, budget.SharedPages(4));
        Assert.Equal("KV pool shared by 4 slot(s): up to 275 pages of 256 positions (70400 tokens, 1022.7 MiB)", budget.SharedStatement(4));
        // A given budget smaller than the context it was given: requests are held to the budget.
        var tight = ContextPlan.Decide(r1At32k, KvCacheType.Q8_0, KvCacheType.Q8_0, 1 * GiB, 64 * GiB, requestedContext: 32768, kvBudgetBytes: 256 * MiB);
        Assert.Equal(68, tight.SharedPages(2));
        Assert.EndsWith("a request can hold at most 17408 tokens (--kv-budget)", tight.SharedStatement(2));
    }

    [Theory]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("512M", 512L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("1GB", 1_000_000_000L)]
    [InlineData(" 4096 ", 4096L)]
    [InlineData("64kib", 65536L)]
    public void SizesParseInBinaryAndDecimalUnits(string text, long bytes) => Assert.Equal(bytes, ContextPlan.ParseBytes(text));

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("0")]
    [InlineData("-1G")]
    [InlineData("2 parsecs")]
    [InlineData("99999999999T")]
    public void ABadSizeIsRefusedNamingTheOption(string text)
    {
        var e = Assert.Throws<RetortException>(() => ContextPlan.ParseBytes(text));
        Assert.StartsWith("--kv-budget must be a size", e.Message);
        Assert.Contains($"found '{text}'", e.Message);
    }

    [Fact]
    public void ALoadedModelIsPlannedWithItsOwnWeightsAndCacheTypes()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"));
        model.Transformer.KeyCacheType = KvCacheType.F16;
        var plan = ContextPlan.For(model);
        Assert.Equal(model.Weights.Tensors.Values.Sum(t => t.ByteLength), plan.WeightBytes);
        Assert.Equal(KvCacheType.F16, plan.KeyType);
        Assert.Equal(KvCacheType.F32, plan.ValueType);
        // 2 layers · 2 KV heads · 64 · (2 + 4) bytes a position; 4096 positions (the fixture's trained context) are 6 MiB,
        // which any machine that runs these tests has to spare.
        Assert.Equal(1536, plan.BytesPerToken);
        Assert.Equal(4096, plan.Context);
        Assert.Equal("context 4096 (the model's), KV cache f16 keys/f32 values up to 6 MiB", plan.Statement);
    }
}
