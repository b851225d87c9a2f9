using Retort.Distillation.Evaluation;
using Retort.Distillation.Models;
using Retort.Distillation.Tests.Support;

namespace Retort.Distillation.Tests.Evaluation;

/// <summary>
/// The seed's own problems, scored the way `retort eval` and `distill clean --references` score them: the
/// right answer in the forms a model writes it counts, a wrong one does not.
/// </summary>
public sealed class SeedAnswerTests
{
    private static bool Right(string output, string reference) =>
        AnswerNormalizer.Equivalent(AnswerExtractor.Extract(output, reference), reference);

    [Theory]
    // 笼子里有若干只鸡和兔子，从上面数有35个头，从下面数有94只脚。问笼中有多少只兔子？
    [InlineData("12", "12", true)]
    [InlineData("兔子有12只。", "12", true)]
    [InlineData("\\boxed{12}", "12", true)]
    [InlineData("23", "12", false)]
    // 鸡兔同笼，共有 35 个头，94 条腿，请问鸡和兔各有多少只？
    [InlineData("鸡23只，兔12只", "鸡23只，兔12只", true)]
    [InlineData("兔12只，鸡23只", "鸡23只，兔12只", true)]
    [InlineData("鸡有 23 只，兔子有 12 只。", "鸡23只，兔12只", true)]
    [InlineData("23只鸡和12只兔子", "鸡23只，兔12只", true)]
    [InlineData("鸡兔同笼：鸡：23，兔：12", "鸡23只，兔12只", true)]
    [InlineData("假设全是鸡有70只脚，所以兔有12只，鸡有23只。", "鸡23只，兔12只", true)]
    [InlineData("鸡12只，兔23只", "鸡23只，兔12只", false)]
    [InlineData("鸡23只", "鸡23只，兔12只", false)]
    [InlineData("23 chickens, 12 rabbits", "23 chickens, 12 rabbits", true)]
    [InlineData("There are 12 rabbits and 23 chickens.", "23 chickens, 12 rabbits", true)]
    [InlineData("chickens: 23, rabbits: 12", "23 chickens, 12 rabbits", true)]
    [InlineData("1 chicken, 12 rabbits", "1 chicken, 12 rabbits", true)]
    [InlineData("23 rabbits, 12 chickens", "23 chickens, 12 rabbits", false)]
    // 甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率
    [InlineData("6/11", "6/11", true)]
    [InlineData("甲获胜的概率是 \\frac{6}{11}。", "6/11", true)]
    [InlineData("12/22", "6/11", true)]
    [InlineData("5/11", "6/11", false)]
    // 如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗
    [InlineData("会", "会", true)]
    [InlineData("会。按照前提，咪咪会飞。", "会", true)]
    [InlineData("Yes, by the premises Mimi can fly.", "会", true)]
    [InlineData("yes", "yes", true)]
    [InlineData("不会", "会", false)]
    [InlineData("不一定", "会", false)]
    // …小白不是猫，那么小白一定会飞吗？
    [InlineData("不一定", "不一定", true)]
    [InlineData("小白不一定会飞。", "不一定", true)]
    [InlineData("答案：不一定", "不一定", true)]
    [InlineData("Not necessarily.", "不一定", true)]
    [InlineData("not necessarily", "not necessarily", true)]
    [InlineData("No, Mimi cannot fly.", "no", true)]
    [InlineData("会", "不一定", false)]
    [InlineData("Yes.", "not necessarily", false)]
    [InlineData("是", "不是", false)]
    public void TheSeedsAnswersAreRecognised(string output, string reference, bool right) =>
        Assert.Equal(right, Right(output, reference));

    [Fact]
    public void APalindromeFunctionIsCheckedByRunningItsTests()
    {
        PythonAvailable.Require();
        // 写一个 Python 函数判断回文字符串
        var item = new EvalItem("seed", "写一个 Python 函数判断回文字符串", "```python\ndef is_palindrome(s):\n    return s == s[::-1]\n```", "python-function",
            new CodeTests("is_palindrome", [new("""["abba"]""", "true"), new("""["racecar"]""", "true"), new("""["abc"]""", "false"), new("""[""]""", "true")]));
        var runner = new PythonTestRunner();
        SampleResult Score(string answer) =>
            Evaluator.Score(new ChatReply { Reasoning = "", Answer = answer, FinishReason = "stop" }, item, runner);

        var good = Score("回文正着读和倒着读一样。\n```python\ndef is_palindrome(s):\n    return s == s[::-1]\n```");
        Assert.True(good.Correct);
        Assert.Equal("def is_palindrome(s):\n    return s == s[::-1]\n", good.Extracted);
        Assert.True(Score("def palindrome(word):\n    return word == word[::-1]").Correct);
        Assert.False(Score("```python\ndef is_palindrome(s):\n    return s == sorted(s)\n```").Correct);
        Assert.False(Score("我不会写。").Correct);
        var noPython = Evaluator.Score(new ChatReply { Reasoning = "", Answer = item.Reference, FinishReason = "stop" }, item, new PythonTestRunner { Python = "/nonexistent/python3" });
        Assert.False(noPython.Correct);
        Assert.True(noPython.Unchecked);
    }
}
