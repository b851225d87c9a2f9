using Retort.Engine.Generation;

namespace Retort.Engine.Tests.Generation;

public sealed class StopStringFilterTests
{
    [Fact]
    public void StopsAtAStringSplitAcrossPiecesAndNeverReleasesIt()
    {
        var f = new StopStringFilter(["STOP"]);
        string released = f.Push("abc S") + f.Push("T") + f.Push("OPdef");
        Assert.True(f.Stopped);
        Assert.Equal("abc ", released + f.Flush());
    }

    [Fact]
    public void HeldTextIsReleasedWhenItTurnsOutNotToBeAStop()
    {
        var f = new StopStringFilter(["\n\nUser:"]);
        Assert.Equal("hi", f.Push("hi\n"));
        Assert.Equal("\nok", f.Push("ok"));
        Assert.False(f.Stopped);
    }

    [Fact]
    public void TheEarliestOfSeveralStopsWins()
    {
        var f = new StopStringFilter(["bb", "a"]);
        Assert.Equal("x", f.Push("xabb"));
    }
}
