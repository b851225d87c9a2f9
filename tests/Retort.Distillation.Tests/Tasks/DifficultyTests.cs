using System.Security.Cryptography;
using Retort.Distillation.Tasks;
using Retort.Distillation.Tests.Support;
using Retort.Engine;

namespace Retort.Distillation.Tests.Tasks;

/// <summary>Choosing the difficulties of generated tasks, and the promise that the default leaves old seeds' files unchanged.</summary>
public sealed class DifficultyTests
{
    private static readonly TaskLanguage[] Both = [TaskLanguage.Zh, TaskLanguage.En];

    /// <summary>
    /// SHA-256 of `retort distill tasks --count 200 --seed 7 --with-solutions`, so data made from a seed stays
    /// reproducible. Replaced on purpose when the solutions became digit-by-digit and the families were rewritten
    /// (branch bm-tasks: phrase grammars, syllogism traps, Python functions); the build before that wrote
    /// 8beefdb905e80919795d5ab9d9c284b921c7f3ee95b2812d30ce8072ae0477f9 (its format since commit 0471789).
    /// </summary>
    private const string Seed7With200Solutions = "4bc4f9e71f2f5399ad9a606e6bbfe5196177fdb343a06cbd6d41c066e4df365d";

    [Theory]
    [InlineData("1", 1, 1)]
    [InlineData("2", 2, 2)]
    [InlineData("3", 3, 3)]
    [InlineData("1-2", 1, 2)]
    [InlineData("2-3", 2, 3)]
    [InlineData(" 1 - 3 ", 1, 3)]
    public void OnlyTheRequestedDifficultiesAppear(string text, int min, int max)
    {
        var range = DifficultyRange.Parse(text);
        Assert.Equal((min, max), (range.Min, range.Max));
        var tasks = TaskGenerator.Generate(300, 11, TaskNames.AllKinds, Both, range);
        Assert.All(tasks, t => Assert.InRange(t.Difficulty, min, max));
        // Every difficulty of the range is drawn, not just one end of it.
        Assert.Equal(Enumerable.Range(min, max - min + 1), tasks.Select(t => t.Difficulty).Distinct().Order());
    }

    [Fact]
    public void ASeedKeepsWritingTheSameFile()
    {
        using var temp = new TempFolder();
        TaskFile.Write(temp.File("default.jsonl"), TaskGenerator.Generate(200, 7, TaskNames.AllKinds, Both), withSolutions: true);
        TaskFile.Write(temp.File("all.jsonl"), TaskGenerator.Generate(200, 7, TaskNames.AllKinds, Both, DifficultyRange.Parse("1-3"), PhrasingSplit.All), withSolutions: true);
        Assert.Equal(Seed7With200Solutions, Sha256(temp.File("default.jsonl")));
        Assert.Equal(Seed7With200Solutions, Sha256(temp.File("all.jsonl")));
    }

    [Fact]
    public void ASingleDifficultyKeepsTheItemsThatAlreadyHadIt()
    {
        // One draw for the difficulty whatever the range, so the rest of an item's random stream does not move.
        var all = TaskGenerator.Generate(200, 5, TaskNames.AllKinds, Both);
        var easy = TaskGenerator.Generate(200, 5, TaskNames.AllKinds, Both, DifficultyRange.Parse("1"));
        var kept = all.Zip(easy).Where(p => p.First.Difficulty == 1).ToList();
        Assert.True(kept.Count > 40, $"only {kept.Count} items of difficulty 1 in 200");
        Assert.All(kept, p => Assert.Equal(p.First, p.Second));
        Assert.Contains(all.Zip(easy), p => p.First.Difficulty != 1 && p.First.Prompt != p.Second.Prompt);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("4")]
    [InlineData("3-1")]
    [InlineData("1-4")]
    [InlineData("1-2-3")]
    [InlineData("easy")]
    [InlineData("-1")]
    [InlineData("")]
    public void ABadDifficultyIsAOneLineError(string text)
    {
        var ex = Assert.Throws<RetortException>(() => DifficultyRange.Parse(text));
        Assert.StartsWith("--difficulty must be 1, 2, 3 or a range such as 1-2", ex.Message);
        Assert.Contains($"found '{text}'", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void ARangeOutsideOneToThreeCannotBeMade()
    {
        Assert.Throws<RetortException>(() => new DifficultyRange(0, 2));
        Assert.Throws<RetortException>(() => new DifficultyRange(2, 1));
        Assert.Equal("1-3", DifficultyRange.All.ToString());
        Assert.Equal("2", new DifficultyRange(2, 2).ToString());
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
