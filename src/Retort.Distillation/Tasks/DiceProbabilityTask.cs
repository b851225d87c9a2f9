using Retort.Distillation.Numerics;
using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>
/// 甲乙轮流掷骰子: A and B roll a fair die in turn, A first, each winning on their own set of faces.
/// Difficulty 1: the same winning face for both; 2: different sets; 3: the game ends in a draw after
/// n rolls each. The answer is A's winning probability as an exact fraction in lowest terms.
/// </summary>
internal static class DiceProbabilityTask
{
    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty)
    {
        int[] setA, setB;
        if (difficulty == 1)
        {
            setA = [rng.Int(1, 6)];
            setB = setA;
        }
        else
        {
            setA = Faces(rng);
            setB = Faces(rng);
        }
        int? rounds = difficulty >= 3 ? rng.Int(2, 4) : null;
        var p = new Rational(setA.Length, 6);
        var q = new Rational(setB.Length, 6);
        var miss = (Rational.One - p) * (Rational.One - q);
        bool zh = lang == TaskLanguage.Zh;

        string prompt = zh
            ? $"甲乙两人轮流掷一枚均匀的六面骰子，甲先掷。甲掷出{DescribeZh(setA)}即获胜；乙掷出{DescribeZh(setB)}即获胜。" +
              (rounds is int n ? $"若两人各掷{S(n)}次后仍无人获胜，则为平局。" : "") +
              "求甲获胜的概率（用最简分数表示）。"
            : $"A and B take turns rolling a fair six-sided die, A first. A wins as soon as A rolls {DescribeEn(setA)}; B wins as soon as B rolls {DescribeEn(setB)}." +
              (rounds is int m ? $" If nobody has won after each player has rolled {S(m)} times, the game is a draw." : "") +
              " What is the probability that A wins? Give it as a fraction in lowest terms.";

        var lines = new List<string>
        {
            zh ? $"甲每次掷骰获胜的概率 p = {Sixths(setA.Length)}；乙每次掷骰获胜的概率 q = {Sixths(setB.Length)}。"
               : $"On each roll A wins with probability p = {Sixths(setA.Length)}, and B wins with probability q = {Sixths(setB.Length)}.",
            zh ? $"一轮（甲乙各掷一次）都没人获胜的概率是 (1 - p)(1 - q) = {Rational.One - p} × {Rational.One - q} = {miss}。"
               : $"A round (one roll each) in which nobody wins has probability (1 - p)(1 - q) = {Rational.One - p} × {Rational.One - q} = {miss}.",
        };
        Rational answer;
        if (rounds is int r)
        {
            lines.Add(zh
                ? $"甲在第 k 轮获胜，需要前 k - 1 轮都没人获胜，再由甲掷中，概率为 ({miss})^(k-1) × {p}，k = 1 到 {S(r)}。"
                : $"A wins in round k when the first k - 1 rounds had no winner and then A succeeds: probability ({miss})^(k-1) × {p}, for k = 1 to {S(r)}.");
            answer = Rational.Zero;
            for (int k = 1; k <= r; k++)
            {
                var term = miss.Pow(k - 1) * p;
                answer += term;
                lines.Add(zh ? $"第{S(k)}轮：{term}" : $"Round {S(k)}: {term}");
            }
            lines.Add(zh ? $"相加得甲获胜的概率为 {answer}。" : $"Adding them, A wins with probability {answer}.");
        }
        else
        {
            answer = p / (Rational.One - miss);
            lines.Add(zh
                ? $"甲获胜的概率 P = p + ({miss})p + ({miss})²p + … = p ÷ (1 - {miss}) = {p} ÷ {Rational.One - miss} = {answer}。"
                : $"A wins on the first roll, or after one empty round, or after two, and so on: P = p + ({miss})p + ({miss})²p + … = p ÷ (1 - {miss}) = {p} ÷ {Rational.One - miss} = {answer}.");
            lines.Add(zh
                ? $"验证：P 满足 P = p + {miss} × P，即 {answer} = {p} + {miss} × {answer}。"
                : $"Check: P must satisfy P = p + {miss} × P, and indeed {answer} = {p} + {miss} × {answer}.");
        }
        lines.Add(zh ? $"所以甲获胜的概率是 {answer}。" : $"So the probability that A wins is {answer}.");
        return new TaskContent(prompt, string.Join("\n", lines), answer.ToString());
    }

    /// <summary>"2/6 = 1/3", or just "1/6" when there is nothing to reduce.</summary>
    private static string Sixths(int faces) =>
        new Rational(faces, 6) is var r && r.Denominator == 6 ? r.ToString() : $"{S(faces)}/6 = {r}";

    /// <summary>A random set of 1 to 4 faces, in increasing order.</summary>
    private static int[] Faces(SplitMix64 rng)
    {
        var faces = new List<int> { 1, 2, 3, 4, 5, 6 };
        rng.Shuffle(faces);
        return faces.Take(rng.Int(1, 4)).Order().ToArray();
    }

    private static string DescribeEn(int[] faces) =>
        faces.Length == 1 ? $"a {S(faces[0])}" : $"one of {string.Join(", ", faces.Select(f => S(f)))}";

    private static string DescribeZh(int[] faces) =>
        faces.Length == 1 ? $"{S(faces[0])}点" : $"{string.Join("、", faces.Select(f => S(f)))}点中的任意一个";
}
