using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Generation;

/// <summary>How the budget follows the think block in the decoded text, token by token.</summary>
public sealed class ThinkingBudgetTests
{
    private static readonly Retort.Engine.Tokenization.Tokenizer Tokenizer =
        Retort.Engine.Tokenization.Tokenizer.FromHfFolder(Fixtures.Path("qwen2-tiny", "hf"));

    private static ThinkingBudget Budget(int? budget, bool startsInReasoning) =>
        new(Tokenizer, new SamplingOptions { ReasoningBudget = budget }, startsInReasoning);

    [Fact]
    public void TokensInsideTheBlockAreCountedButNotTheTagsOrTheAnswer()
    {
        var b = Budget(null, startsInReasoning: false);
        foreach (string piece in new[] { "Sure", " ", "<think>", "\n", "hmm", "", "ok", "</think>", "\n\nAnswer", " 5" }) b.Observe(piece, sampled: true);
        // "\n", "hmm", "" (half a character) and "ok": four tokens inside.
        Assert.Equal(4, b.ReasoningTokens);
        Assert.False(b.Inside);
    }

    [Fact]
    public void ATagSplitOverTokensIsSeenAtTheTokenThatCompletesIt()
    {
        var b = Budget(2, startsInReasoning: true);
        b.Observe("a", true);
        b.Observe("</th", true);
        Assert.True(b.Inside);
        Assert.True(b.Reached);
        b.Observe("ink>", true);
        Assert.False(b.Inside);
        Assert.False(b.Reached);
        Assert.Equal(2, b.ReasoningTokens);
    }

    [Fact]
    public void AClosedBlockNeverReopens()
    {
        var b = Budget(0, startsInReasoning: true);
        b.Observe("x</think>answer", true);
        b.Observe("<think>", true);
        b.Observe("more", true);
        Assert.False(b.Inside);
        Assert.False(b.Reached);
        Assert.Equal(0, b.ReasoningTokens);
    }

    [Fact]
    public void TheBudgetIsReachedAtNTokensAndForcedTokensAreNotCounted()
    {
        var b = Budget(3, startsInReasoning: true);
        for (int i = 0; i < 3; i++)
        {
            Assert.False(b.Reached);
            b.Observe("t", true);
        }
        Assert.True(b.Reached);
        b.MarkExhausted();
        Assert.False(b.Reached);
        b.Observe(" nudge", sampled: false);
        Assert.Equal(3, b.ReasoningTokens);
        Assert.Equal(" nudge</think>\n\n", Tokenizer.Decode(new ThinkingBudget(Tokenizer,
            new SamplingOptions { ReasoningBudget = 3, ReasoningNudge = " nudge" }, true).ForcedTokens()));
    }

    [Fact]
    public void WithoutABudgetItIsNeverReached()
    {
        var b = Budget(-1, startsInReasoning: true);
        for (int i = 0; i < 100; i++) b.Observe("t", true);
        Assert.False(b.Reached);
        Assert.Equal(100, b.ReasoningTokens);
    }

    [Fact]
    public void ThePromptsOwnTokenizerSpellsTheRealR1ClosingTagAsOneToken()
    {
        // The real DeepSeek-R1-Distill-Qwen tokenizer: </think> is added token 151649.
        var r1 = Retort.Engine.Tokenization.Tokenizer.FromHfFolder(Fixtures.Path("r1-qwen-tokenizer"));
        int[] forced = new ThinkingBudget(r1, new SamplingOptions { ReasoningBudget = 0 }, true).ForcedTokens();
        Assert.Equal(151649, forced[0]);
        Assert.Equal("</think>\n\n", r1.Decode(forced));
        int[] nudged = new ThinkingBudget(r1, new SamplingOptions { ReasoningBudget = 1 }, true).ForcedTokens();
        Assert.Equal("\n\nI have to give the answer now, based on my thinking so far.\n</think>\n\n", r1.Decode(nudged));
        Assert.InRange(nudged.Length, 10, 20);
    }
}
