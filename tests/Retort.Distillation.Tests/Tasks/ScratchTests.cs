using Retort.Distillation.Tasks;
using Retort.Distillation.Tests.Support;

namespace Retort.Distillation.Tests.Tasks;

/// <summary>The written-out arithmetic, in the one format every family uses, and the checker the family tests rely on.</summary>
public sealed class ScratchTests
{
    [Theory]
    [InlineData('+', 47, 85, "47+85: 7+5=12, write 2 carry 1; 4+8+1=13, write 13 → 132", "47+85: 7+5=12, 写2进1; 4+8+1=13, 写13 → 132")]
    [InlineData('+', 7, 85, "7+85: 7+5=12, write 2 carry 1; 0+8+1=9, write 9 → 92", "7+85: 7+5=12, 写2进1; 0+8+1=9, 写9 → 92")]
    [InlineData('+', 6, 5, "6+5=11", "6+5=11")]
    [InlineData('-', 35, 17, "35-17: 15-7=8, write 8 borrow 1; 3-1-1=1, write 1 → 18", "35-17: 15-7=8, 写8借1; 3-1-1=1, 写1 → 18")]
    [InlineData('-', 103, 98, "103-98: 13-8=5, write 5 borrow 1; 10-9-1=0, write 0 borrow 1; 1-0-1=0, write 0 → 5", "103-98: 13-8=5, 写5借1; 10-9-1=0, 写0借1; 1-0-1=0, 写0 → 5")]
    [InlineData('×', 35, 4, "35×4: 5×4=20, write 0 carry 2; 3×4+2=14, write 14 → 140", "35×4: 5×4=20, 写0进2; 3×4+2=14, 写14 → 140")]
    [InlineData('×', 102, 2, "102×2: 2×2=4, write 4; 0×2=0, write 0; 1×2=2, write 2 → 204", "102×2: 2×2=4, 写4; 0×2=0, 写0; 1×2=2, 写2 → 204")]
    [InlineData('÷', 96, 4, "96÷4: 9÷4=2 r1; 16÷4=4 r0 → 24", "96÷4: 9÷4=2余1; 16÷4=4余0 → 24")]
    [InlineData('÷', 18, 3, "18÷3=6", "18÷3=6")]
    public void OperationsAreWrittenOneDigitAStep(char op, long a, long b, string en, string zh)
    {
        string Write(TaskLanguage lang) => op switch
        {
            '+' => Scratch.Add(a, b, lang),
            '-' => Scratch.Subtract(a, b, lang),
            '×' => Scratch.Multiply(a, b, lang),
            _ => Scratch.Divide(a, b, lang),
        };
        Assert.Equal(en, Write(TaskLanguage.En));
        Assert.Equal(zh, Write(TaskLanguage.Zh));
        Assert.Single(ScratchChecker.Check(en));
        Assert.Single(ScratchChecker.Check(zh));
    }

    [Fact]
    public void EveryOperationInRangeIsWrittenRight()
    {
        var rng = new Random(5);
        for (int i = 0; i < 3000; i++)
        {
            long a = rng.Next(0, 100_000), b = rng.Next(0, 100_000), k = rng.Next(1, 10);
            foreach (var lang in new[] { TaskLanguage.En, TaskLanguage.Zh })
            {
                Assert.Equal((a, '+', b, a + b), Assert.Single(ScratchChecker.Check(Scratch.Add(a, b, lang))));
                Assert.Equal((Math.Max(a, b), '-', Math.Min(a, b), Math.Abs(a - b)), Assert.Single(ScratchChecker.Check(Scratch.Subtract(Math.Max(a, b), Math.Min(a, b), lang))));
                Assert.Equal((a, '×', k, a * k), Assert.Single(ScratchChecker.Check(Scratch.Multiply(a, k, lang))));
                Assert.Equal((a * k, '÷', k, a), Assert.Single(ScratchChecker.Check(Scratch.Divide(a * k, k, lang))));
            }
        }
    }

    [Theory]
    [InlineData("47+85: 7+5=12, write 2 carry 1; 4+8=12, write 12 → 132")]            // a carry dropped
    [InlineData("47+85: 7+5=12, write 2 carry 1; 4+8+1=13, write 13 → 133")]          // a wrong result
    [InlineData("47+85: 7+5=12, write 3 carry 1; 4+8+1=13, write 13 → 132")]          // a wrong digit written
    [InlineData("35-17: 5-7=8, write 8 borrow 1; 3-1-1=1, write 1 → 18")]             // a borrow not taken
    [InlineData("35-17: 15-7=8, write 8 borrow 1; 3-1=2, write 2 → 28")]              // a borrow not paid back
    [InlineData("35×4: 5×4=20, write 0 carry 2; 3×4=12, write 12 → 120")]             // a carry dropped
    [InlineData("96÷4: 9÷4=2 r1; 6÷4=1 r2 → 21")]                                    // the remainder not carried down
    [InlineData("so 6×5=31 and more")]                                              // a wrong table fact
    public void TheCheckerCatchesAWrongStep(string text) =>
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ScratchChecker.Check(text));
}
