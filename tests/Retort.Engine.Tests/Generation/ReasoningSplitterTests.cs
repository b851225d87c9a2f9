using Retort.Engine.Generation;

namespace Retort.Engine.Tests.Generation;

public sealed class ReasoningSplitterTests
{
    private static (string Reasoning, string Answer, List<(TextKind, string)> Pieces) Split(bool startsInReasoning, params string[] pieces)
    {
        var s = new ReasoningSplitter(startsInReasoning);
        var all = new List<(TextKind, string)>();
        foreach (string p in pieces) all.AddRange(s.Push(p));
        all.AddRange(s.Flush());
        return (s.Reasoning, s.Answer, all);
    }

    [Fact]
    public void APromptThatOpenedThinkStartsInReasoning()
    {
        var (reasoning, answer, _) = Split(true, "Let me ", "add: 2+3=5.\n", "</think>\n\n", "The answer is 5.");
        Assert.Equal("Let me add: 2+3=5.", reasoning);
        Assert.Equal("The answer is 5.", answer);
    }

    [Fact]
    public void TagsSplitAcrossPiecesAreRecognised()
    {
        var (reasoning, answer, pieces) = Split(false, "<th", "ink>\nhmm", "</", "thi", "nk>", "\n\nyes");
        Assert.Equal("hmm", reasoning);
        Assert.Equal("yes", answer);
        Assert.DoesNotContain(pieces, p => p.Item2.Contains('<'));
    }

    [Fact]
    public void OutputWithoutTagsIsAllAnswer()
    {
        var (reasoning, answer, _) = Split(false, "Just ", "an answer with a < sign");
        Assert.Equal("", reasoning);
        Assert.Equal("Just an answer with a < sign", answer);
    }

    [Fact]
    public void AnUnclosedThinkBlockIsAllReasoning()
    {
        var (reasoning, answer, _) = Split(true, "still thinking <", "/thi");
        Assert.Equal("still thinking </thi", reasoning);
        Assert.Equal("", answer);
    }

    [Fact]
    public void OnlyTheFirstThinkBlockIsReasoning()
    {
        var (reasoning, answer, _) = Split(true, "r</think>a <think> b");
        Assert.Equal("r", reasoning);
        Assert.Equal("a <think> b", answer);
    }

    [Theory]
    [InlineData("<｜Assistant｜><think>\n", true)]
    [InlineData("<|im_start|>assistant\n", false)]
    [InlineData("<think>\nx</think>", false)]
    public void DetectsPromptsThatOpenReasoning(string prompt, bool expected) =>
        Assert.Equal(expected, ReasoningSplitter.PromptOpensReasoning(prompt));
}
