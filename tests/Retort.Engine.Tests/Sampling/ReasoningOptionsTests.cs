using Retort.Engine.Sampling;

namespace Retort.Engine.Tests.Sampling;

public sealed class ReasoningOptionsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(int.MaxValue)]
    public void BudgetsOfZeroOrMoreAndMinusOneAreAccepted(int? budget) =>
        new SamplingOptions { ReasoningBudget = budget }.Validate();

    [Fact]
    public void ANegativeBudgetOtherThanMinusOneIsRefusedWithTheValue()
    {
        var ex = Assert.Throws<RetortException>(() => new SamplingOptions { ReasoningBudget = -2 }.Validate());
        Assert.Equal("reasoning budget must be a number of tokens ≥ 0 (0: no thinking) or -1 (no limit), found -2", ex.Message);
        Assert.False(new SamplingOptions { ReasoningBudget = -7 }.TryValidate(s => s == "ReasoningBudget" ? "--reasoning-budget" : s, out string? setting, out string? message));
        Assert.Equal(nameof(SamplingOptions.ReasoningBudget), setting);
        Assert.StartsWith("--reasoning-budget must be", message);
    }

    [Fact]
    public void TheNudgeIsBoundedAndHoldsNoTag()
    {
        Assert.Contains("at most 1024", Assert.Throws<RetortException>(() =>
            new SamplingOptions { ReasoningNudge = new string('x', 1025) }.Validate()).Message);
        new SamplingOptions { ReasoningNudge = new string('x', 1024) }.Validate();
        new SamplingOptions { ReasoningNudge = "" }.Validate();
        Assert.Contains("</think>", Assert.Throws<RetortException>(() =>
            new SamplingOptions { ReasoningNudge = "done</think>" }.Validate()).Message);
        Assert.Contains("<think>", Assert.Throws<RetortException>(() =>
            new SamplingOptions { ReasoningNudge = "again <think>" }.Validate()).Message);
        Assert.Contains("found null", Assert.Throws<RetortException>(() =>
            new SamplingOptions { ReasoningNudge = null! }.Validate()).Message);
    }

    [Fact]
    public void TheDefaultIsNoLimitWithAShortNudge()
    {
        var d = new SamplingOptions();
        Assert.Null(d.ReasoningBudget);
        Assert.False(d.HasReasoningBudget);
        Assert.Equal("\n\nI have to give the answer now, based on my thinking so far.\n", d.ReasoningNudge);
    }

    [Theory]
    [InlineData("none", 0)]
    [InlineData("minimal", 0)]
    [InlineData("low", 1024)]
    [InlineData("medium", 4096)]
    [InlineData("high", 16384)]
    [InlineData("xhigh", 32768)]
    [InlineData("max", -1)]
    public void EffortLevelsMapToBudgets(string level, int budget)
    {
        Assert.True(ReasoningEffort.TryBudget(level, out int found));
        Assert.Equal(budget, found);
        Assert.Contains(level, ReasoningEffort.Levels);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Low")]
    [InlineData("extreme")]
    public void UnknownLevelsAreNotGuessed(string level) => Assert.False(ReasoningEffort.TryBudget(level, out _));
}
