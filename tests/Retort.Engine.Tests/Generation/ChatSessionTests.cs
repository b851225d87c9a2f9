using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Generation;

public sealed class ChatSessionTests
{
    private static readonly SamplingOptions Short = SamplingOptions.Greedy with { MaxTokens = 6, IgnoreEos = true };

    [Fact]
    public void ASecondTurnOnlyComputesWhatChanged()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"));
        var chat = new ChatSession(model, 256);
        var first = chat.Send("What is 2+3?", Short);
        Assert.Equal(0, first.ReusedPromptTokens);

        var second = chat.Send("And times 4?", Short);
        // Everything up to where the second prompt departs from what the cache holds (the first prompt and
        // the first answer) is reused; the R1 template renders the earlier answer without its <think>, so
        // the two depart right after the first "<｜Assistant｜>".
        var cached = first.PromptTokens.Concat(first.Tokens).ToArray();
        int common = 0;
        while (common < cached.Length && common < second.PromptTokens.Count && cached[common] == second.PromptTokens[common]) common++;
        Assert.True(common > 5);
        Assert.Equal(common, second.ReusedPromptTokens);
        Assert.Equal(4, chat.Messages.Count);
    }

    [Fact]
    public void ReusedCacheGivesTheSameAnswerAsAFreshOne()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"));
        var chat = new ChatSession(model, 256);
        chat.Send("What is 2+3?", Short);
        var warm = chat.Send("And times 4?", Short);

        var fresh = new Generator(model, 256).Generate(warm.PromptTokens, Short);
        Assert.Equal(fresh.Tokens, warm.Tokens);
    }

    [Fact]
    public void OverflowIsAnErrorByDefault()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));
        var chat = new ChatSession(model, 64);
        chat.Send("hi", Short with { MaxTokens = 4 });
        var ex = Assert.Throws<RetortException>(() => chat.Send(string.Join(' ', Enumerable.Repeat("many words here", 8)), Short));
        Assert.Contains("context", ex.Message);
        Assert.Equal(2, chat.Messages.Count);
    }

    [Fact]
    public void DropOldestForgetsEarlyTurnsUntilTheConversationFits()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));
        var chat = new ChatSession(model, 96, ContextOverflow.DropOldest);
        for (int i = 0; i < 6; i++)
        {
            var r = chat.Send($"question number {i}", Short with { MaxTokens = 8 });
            Assert.True(r.PromptTokens.Count + r.Tokens.Count <= 96);
        }
        Assert.True(chat.Messages.Count < 12, "old turns were dropped");
        Assert.Equal("question number 5", chat.Messages[^2].Content);
        Assert.DoesNotContain(chat.Messages, m => m.Content == "question number 0");
    }
}
