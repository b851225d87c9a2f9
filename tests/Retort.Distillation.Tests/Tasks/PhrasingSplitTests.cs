using System.Text.RegularExpressions;
using Retort.Distillation.Tasks;
using Retort.Engine;

namespace Retort.Distillation.Tests.Tasks;

/// <summary>Held-out prompts are worded in ways training never uses, and the seed's own wordings are among the training ones.</summary>
public sealed class PhrasingSplitTests
{
    private static readonly TaskLanguage[] Both = [TaskLanguage.Zh, TaskLanguage.En];

    /// <summary>A prompt's wording: the prompt with its numbers masked (names, animals, words all kept).</summary>
    private static string Wording(string prompt) => Regex.Replace(prompt, @"\d+", "#");

    [Fact]
    public void NoHeldOutWordingAppearsInTrainingData()
    {
        foreach (var kind in TaskNames.AllKinds)
        {
            var training = TaskGenerator.Generate(6000, 11, [kind], Both, DifficultyRange.All, PhrasingSplit.Training).Select(t => Wording(t.Prompt)).ToHashSet();
            var heldout = TaskGenerator.Generate(400, 12, [kind], Both, DifficultyRange.All, PhrasingSplit.Heldout);
            Assert.Equal([TaskLanguage.En, TaskLanguage.Zh], heldout.Select(t => t.Language).Distinct().Order());
            var leaked = heldout.Where(t => training.Contains(Wording(t.Prompt))).Select(t => t.Prompt).ToList();
            Assert.True(leaked.Count == 0, $"{TaskNames.Name(kind)}: held-out wordings in training: {string.Join(" | ", leaked.Take(3))}");
            // Without the split, reserved wordings occur too: the same items differ from the training split's.
            var all = TaskGenerator.Generate(300, 11, [kind], Both).Select(t => t.Prompt);
            var trainingItems = TaskGenerator.Generate(300, 11, [kind], Both, DifficultyRange.All, PhrasingSplit.Training).Select(t => t.Prompt);
            Assert.NotEqual(trainingItems, all);
        }
    }

    [Fact]
    public void TheSplitsAreSetByNameAndAnUnknownNameIsAOneLineError()
    {
        Assert.Equal(PhrasingSplit.Training, TaskNames.ParsePhrasing("train"));
        Assert.Equal(PhrasingSplit.Heldout, TaskNames.ParsePhrasing(" HeldOut "));
        Assert.Equal("all", TaskNames.Name(PhrasingSplit.All));
        var ex = Assert.Throws<RetortException>(() => TaskNames.ParsePhrasing("test"));
        Assert.Equal("--phrasing must be all, train or heldout, found 'test'", ex.Message);
    }

    [Theory]
    [InlineData(TaskKind.ChickensRabbits, "^笼子里有若干只鸡和兔子，从上面数有#个头，从下面数有#只脚。问笼中有多少只兔子？$")]
    [InlineData(TaskKind.ChickensRabbits, "^鸡兔同笼，共有 # 个头，# 条腿，请问鸡和兔各有多少只？$")]
    [InlineData(TaskKind.DiceProbability, "^甲乙两人轮流掷骰子，谁先掷出#谁赢，甲先掷，求甲获胜的概率$")]
    [InlineData(TaskKind.SyllogismTrap, "^如果所有(.+)都会(.+)，而(.+)是一只(.+)，那么(.+)会(.+)吗$")]
    [InlineData(TaskKind.SyllogismTrap, "^如果所有(.+)都会(.+)，(.+)不是(.+)，那么(.+)一定会(.+)吗？$")]
    [InlineData(TaskKind.PythonFunction, "^写一个 Python 函数判断回文字符串$")]
    public void TheSeedsWordingsAreTrainingWordings(TaskKind kind, string wording)
    {
        var tasks = TaskGenerator.Generate(80_000, 21, [kind], [TaskLanguage.Zh], DifficultyRange.Parse("1"), PhrasingSplit.Training);
        Assert.Contains(tasks, t => Regex.IsMatch(Wording(t.Prompt), wording));
    }
}
