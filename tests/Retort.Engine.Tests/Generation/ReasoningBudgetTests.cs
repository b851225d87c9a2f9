using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using Retort.Engine.Tests.Model;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Generation;

/// <summary>
/// The reasoning budget on the qwen2-tiny fixture, whose tokenizer has the R1 added tokens (&lt;think&gt; 462,
/// &lt;/think&gt; 463). Its third reference prompt is an R1 chat prompt ending in "&lt;｜Assistant｜&gt;&lt;think&gt;\n", and
/// transformers' greedy continuation of it (24 tokens, never a closing tag) is the independent reference.
/// </summary>
public sealed class ReasoningBudgetTests : IDisposable
{
    private const int CloseTagId = 463;
    private const string DefaultNudgeText = "\n\nI have to give the answer now, based on my thinking so far.\n";

    private readonly LoadedModel _model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"));
    private readonly ReferenceLogits _reference = ReferenceLogits.TransformersF32("qwen2-tiny");

    private int[] ChatPrompt => _reference.Prompts[2];

    private int[] ReferenceThinking => _reference.Greedy[2];

    private static SamplingOptions Greedy(int maxTokens, int? budget) =>
        SamplingOptions.Greedy with { MaxTokens = maxTokens, IgnoreEos = true, ReasoningBudget = budget };

    public void Dispose() => _model.Dispose();

    [Fact]
    public void TheFixturePromptOpensReasoningAndItsReferenceNeverClosesIt()
    {
        Assert.Equal([459, 462, 198], ChatPrompt[^3..]);
        Assert.True(ReasoningSplitter.PromptOpensReasoning(_model.Tokenizer.Decode(ChatPrompt)));
        Assert.DoesNotContain(CloseTagId, ReferenceThinking);
        Assert.Equal(CloseTagId, _model.Tokenizer.TokenToId("</think>"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(17)]
    public void ABudgetOfNThinksNTokensThenWritesTheNudgeAndTheClosingTag(int budget)
    {
        const int max = 80;
        var generator = new Generator(_model, 256);
        var chunks = new List<GenerationChunk>();
        var r = generator.Generate(ChatPrompt, Greedy(max, budget), startsInReasoning: true, chunks.Add);

        // The thinking is the model's own up to the budget: transformers' continuation.
        Assert.Equal(ReferenceThinking[..budget], r.Tokens.Take(budget));
        // Then the nudge and the tag, as the tokenizer spells them, with </think> as its one added token.
        int[] forced = _model.Tokenizer.Encode(DefaultNudgeText + "</think>\n\n");
        int tagAt = Array.IndexOf(forced, CloseTagId);
        Assert.Equal(_model.Tokenizer.Encode("\n\n"), forced[(tagAt + 1)..]);
        Assert.Equal(forced, r.Tokens.Skip(budget).Take(forced.Length));
        Assert.Equal(DefaultNudgeText + "</think>\n\n", _model.Tokenizer.Decode(r.Tokens.Skip(budget).Take(forced.Length)));
        Assert.Single(r.Tokens, CloseTagId);

        Assert.Equal(budget, r.ReasoningTokens);
        Assert.True(r.ReasoningBudgetExhausted);
        Assert.Equal(FinishReason.Length, r.FinishReason);
        Assert.Equal(max, r.Tokens.Count);
        Assert.EndsWith("I have to give the answer now, based on my thinking so far.", r.Reasoning);
        Assert.DoesNotContain("think>", r.Reasoning + r.Answer);

        // The answer is what the model writes after the forced text: a fresh run on prompt + thinking + forced text.
        int[] context = [.. ChatPrompt, .. r.Tokens.Take(budget + forced.Length)];
        var fresh = new Generator(_model, 256).Generate(context, Greedy(max - budget - forced.Length, null));
        Assert.Equal(fresh.Tokens, r.Tokens.Skip(budget + forced.Length));
        Assert.Equal(fresh.Text.Trim(), r.Answer);

        // The cache holds the forced tokens like any other (all but the last token, which was never run).
        Assert.Equal(ChatPrompt.Concat(r.Tokens.Take(r.Tokens.Count - 1)), generator.CachedTokens);

        // Streamed: reasoning (the nudge last), then answer; the tag itself is never shown.
        string streamedReasoning = string.Concat(chunks.Where(c => c.Kind == TextKind.Reasoning).Select(c => c.Text));
        Assert.Equal(r.Reasoning, streamedReasoning.Trim());
        int lastReasoning = chunks.FindLastIndex(c => c.Kind == TextKind.Reasoning);
        Assert.DoesNotContain(chunks.Take(lastReasoning), c => c.Kind == TextKind.Answer);
    }

    [Fact]
    public void ABudgetOfZeroClosesTheBlockAtOnceWithoutTheNudge()
    {
        const int max = 20;
        var r = new Generator(_model, 256).Generate(ChatPrompt, Greedy(max, 0), startsInReasoning: true);
        int[] close = _model.Tokenizer.Encode("</think>\n\n");
        Assert.Equal(CloseTagId, close[0]);
        Assert.Equal(close, r.Tokens.Take(close.Length));
        Assert.Equal("", r.Reasoning);
        Assert.Equal(0, r.ReasoningTokens);
        Assert.True(r.ReasoningBudgetExhausted);

        var fresh = new Generator(_model, 256).Generate([.. ChatPrompt, .. close], Greedy(max - close.Length, null));
        Assert.Equal(fresh.Tokens, r.Tokens.Skip(close.Length));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(-1)]
    [InlineData(24)]
    [InlineData(1000)]
    public void WithoutALimitReachedTheOutputIsTodays(int? budget)
    {
        // 24 tokens of thinking in 24 tokens of output: a budget of 24 is reached only when nothing is left to answer with.
        var r = new Generator(_model, 128).Generate(ChatPrompt, Greedy(ReferenceThinking.Length, budget), startsInReasoning: true);
        Assert.Equal(ReferenceThinking, r.Tokens);
        Assert.Equal(ReferenceThinking.Length, r.ReasoningTokens);
        Assert.False(r.ReasoningBudgetExhausted);
        Assert.Equal(FinishReason.Length, r.FinishReason);
    }

    [Fact]
    public void APromptOutsideReasoningIsUnaffected()
    {
        // The first reference prompt is BOS alone: no think block, and the model never opens one.
        Assert.DoesNotContain(462, _reference.Greedy[0]);
        var r = new Generator(_model, 128).Generate(_reference.Prompts[0], Greedy(_reference.Greedy[0].Length, 0));
        Assert.Equal(_reference.Greedy[0], r.Tokens);
        Assert.Equal(0, r.ReasoningTokens);
        Assert.False(r.ReasoningBudgetExhausted);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void ABlockTheModelOpensItselfIsBudgetedFromItsOpeningTag(int budget)
    {
        // On BOS and token 40 the model writes two tokens, then <think> itself (no template opened it).
        int[] prompt = [460, 40];
        var free = new Generator(_model, 128).Generate(prompt, Greedy(30, null));
        int open = free.Tokens.ToList().IndexOf(462);
        Assert.Equal(2, open);
        Assert.DoesNotContain(CloseTagId, free.Tokens);

        var r = new Generator(_model, 256).Generate(prompt, Greedy(100, budget));
        Assert.Equal(free.Tokens.Take(open + 1 + budget), r.Tokens.Take(open + 1 + budget));
        int[] forced = _model.Tokenizer.Encode((budget > 0 ? DefaultNudgeText : "") + "</think>\n\n");
        Assert.Equal(forced, r.Tokens.Skip(open + 1 + budget).Take(forced.Length));
        Assert.Equal(budget, r.ReasoningTokens);
        Assert.True(r.ReasoningBudgetExhausted);
    }

    [Fact]
    public void TheTokenLimitInsideTheThinkingIsALengthStopNotABudgetOne()
    {
        var r = new Generator(_model, 128).Generate(ChatPrompt, Greedy(6, 10), startsInReasoning: true);
        Assert.Equal(ReferenceThinking[..6], r.Tokens);
        Assert.Equal(FinishReason.Length, r.FinishReason);
        Assert.False(r.ReasoningBudgetExhausted);
        Assert.Equal(6, r.ReasoningTokens);
    }

    [Fact]
    public void ForcedTextThatWouldLeaveNoRoomToAnswerEndsAtTheLimit()
    {
        const int budget = 4;
        int forced = _model.Tokenizer.Encode(DefaultNudgeText + "</think>\n\n").Length;

        var cut = new Generator(_model, 128).Generate(ChatPrompt, Greedy(budget + forced, budget), startsInReasoning: true);
        Assert.Equal(ReferenceThinking[..budget], cut.Tokens);
        Assert.Equal(FinishReason.Length, cut.FinishReason);
        Assert.False(cut.ReasoningBudgetExhausted);

        var oneMore = new Generator(_model, 128).Generate(ChatPrompt, Greedy(budget + forced + 1, budget), startsInReasoning: true);
        Assert.True(oneMore.ReasoningBudgetExhausted);
        Assert.Equal(budget + forced + 1, oneMore.Tokens.Count);
        Assert.Equal(_model.Tokenizer.Encode(DefaultNudgeText + "</think>\n\n"), oneMore.Tokens.Skip(budget).Take(forced));

        // The context limits the same way: after the prompt and 4 tokens of thinking, the forced text would fill it.
        var small = new Generator(_model, ChatPrompt.Length + budget + forced).Generate(ChatPrompt, Greedy(100, budget), startsInReasoning: true);
        Assert.False(small.ReasoningBudgetExhausted);
        Assert.Equal(FinishReason.Length, small.FinishReason);
    }

    [Fact]
    public void ANudgeOfYourOwnOrNoneAtAll()
    {
        var own = new Generator(_model, 256).Generate(ChatPrompt, Greedy(60, 2) with { ReasoningNudge = " Time is up." }, startsInReasoning: true);
        int[] forced = _model.Tokenizer.Encode(" Time is up.</think>\n\n");
        Assert.Equal(forced, own.Tokens.Skip(2).Take(forced.Length));
        Assert.EndsWith("Time is up.", own.Reasoning);

        var none = new Generator(_model, 256).Generate(ChatPrompt, Greedy(60, 2) with { ReasoningNudge = "" }, startsInReasoning: true);
        Assert.Equal(CloseTagId, none.Tokens[2]);
        Assert.True(none.ReasoningBudgetExhausted);
    }

    [Fact]
    public void StopStringsDoNotMatchTheForcedText()
    {
        var r = new Generator(_model, 256).Generate(ChatPrompt, Greedy(60, 3) with { StopStrings = ["give the answer", "</think>"] },
            startsInReasoning: true);
        Assert.True(r.ReasoningBudgetExhausted);
        Assert.Contains("give the answer", r.Reasoning);
        Assert.Contains(CloseTagId, r.Tokens);
    }

    [Fact]
    public void AChatSessionTurnHonoursTheBudget()
    {
        // The tiny vocabulary spells the nudge out in dozens of tokens: the limit leaves room for an answer after them.
        var chat = new ChatSession(_model, 512);
        var options = Greedy(90, 5);
        var r = chat.Send("What is 2+3?", options);
        Assert.Equal(5, r.ReasoningTokens);
        Assert.True(r.ReasoningBudgetExhausted);
        Assert.Equal(r.Answer, chat.Messages[^1].Content);

        // The same prompt through a bare generator gives the same tokens.
        var direct = new Generator(_model, 512).Generate(r.PromptTokens, options, startsInReasoning: true);
        Assert.Equal(direct.Tokens, r.Tokens);

        // The next turn still thinks (and is cut) within its own budget.
        var second = chat.Send("And times 4?", options);
        Assert.Equal(5, second.ReasoningTokens);
        Assert.True(second.ReasoningBudgetExhausted);
    }
}
