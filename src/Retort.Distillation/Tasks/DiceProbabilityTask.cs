using Retort.Distillation.Numerics;
using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>
/// 轮流掷骰子: 2 or 3 players take turns with a k-sided die, from a given starter; the first to roll a
/// winning face (one face, two faces, an even or odd number, a number above t) wins; asked: one player's
/// chance. With p the chance of a winning roll and q = 1 − p, the player i-th in turn (from 0) wins with
/// q^i·p·(1 + qⁿ + q²ⁿ + …) = q^i·p / (1 − qⁿ), so the chances stand in the ratio 1 : q : q²; with p = a/b
/// in lowest terms the ratio times bⁿ⁻¹ is whole and already gives the answer in lowest terms:
/// <code>
/// winning faces: 1 of 6: p = 1/6, q = 5/6
/// order: A, B
/// P(k-th to roll wins) = q^(k-1)·p·(1+q^2+q^4+…), so the chances are 1 : q
/// ×6: 6 : 5
/// 6+5=11
/// A rolls 1st: 6/11
/// </code>
/// Difficulty 1: a six-sided die, one winning face, two players; 2: other dice and winning sets; 3: three players.
/// </summary>
internal static class DiceProbabilityTask
{
    private static readonly int[] Sides = [4, 6, 8, 10, 12, 20];

    private enum Target { Face, TwoFaces, Even, Odd, Above }

    private sealed record Slots(string Players, string Count, string Die, string Target, string Starter, string Asked);

    private static readonly Phrase<string[]> ZhTwo = Phrase.Of<string[]>([["甲", "乙"], ["小明", "小红"], ["小王", "小李"]], ["张三", "李四"]);
    private static readonly Phrase<string[]> ZhThree = Phrase.Of<string[]>([["甲", "乙", "丙"], ["小明", "小红", "小刚"]], ["张三", "李四", "王五"]);
    private static readonly Phrase<string[]> EnTwo = Phrase.Of<string[]>([["A", "B"], ["Alice", "Bob"], ["Tom", "Jerry"]], ["Ann", "Ben"]);
    private static readonly Phrase<string[]> EnThree = Phrase.Of<string[]>([["A", "B", "C"], ["Alice", "Bob", "Carol"]], ["Ann", "Ben", "Cy"]);

    private static readonly Phrase<string> ZhSixSided = Phrase.Of(["骰子", "一枚骰子", "一个均匀的骰子", "一枚六面骰子"], "一颗骰子");
    private static readonly Phrase<string> ZhOtherDie = Phrase.Of(["一个{k}面骰子", "一枚均匀的{k}面骰子"], "一颗{k}面骰子");
    private static readonly Phrase<string> EnSixSided = Phrase.Of(["a die", "a fair die", "a six-sided die"], "a fair six-sided die");
    private static readonly Phrase<string> EnOtherDie = Phrase.Of(["{a} {k}-sided die", "a fair {k}-sided die"], "a fair die with {k} faces");

    private static readonly Func<Slots, string> ZhSeed = s => $"{s.Players}{s.Count}人轮流掷{s.Die}，谁先掷出{s.Target}谁赢，{s.Starter}先掷，求{s.Asked}获胜的概率";

    /// <summary>The seed's wording counts twice; the last is reserved for held-out prompts.</summary>
    private static readonly Phrase<Func<Slots, string>> ZhTemplates = Phrase.Of<Func<Slots, string>>(
        [
            ZhSeed, ZhSeed,
            s => $"{s.Players}{s.Count}人轮流掷{s.Die}，{s.Starter}先掷。先掷出{s.Target}的人获胜。{s.Asked}获胜的概率是多少？",
            s => $"{s.Players}玩掷骰子游戏，用的是{s.Die}。从{s.Starter}开始按顺序轮流掷，谁先掷出{s.Target}谁就赢。求{s.Asked}赢的概率。",
            s => $"{s.Players}按顺序轮流掷{s.Die}，由{s.Starter}先掷，第一个掷出{s.Target}的人获胜。问{s.Asked}获胜的概率是多少？",
        ],
        s => $"{s.Players}轮流掷{s.Die}（{s.Starter}第一个掷），掷出{s.Target}就获胜，游戏结束。{s.Asked}获胜的概率为多少？");

    private static readonly Phrase<Func<Slots, string>> EnTemplates = Phrase.Of<Func<Slots, string>>(
        [
            s => $"{s.Players} take turns rolling {s.Die}, and {s.Starter} goes first. Whoever rolls {s.Target} first wins. What is the probability that {s.Asked} wins?",
            s => $"{s.Players} roll {s.Die} in turn, starting with {s.Starter}. The first to roll {s.Target} wins. Find the probability that {s.Asked} wins.",
            s => $"In a game, {s.Players} take turns with {s.Die}; {s.Starter} rolls first, and the first player to get {s.Target} wins. What is the probability that {s.Asked} wins?",
        ],
        s => $"{s.Players} take turns rolling {s.Die} ({s.Starter} first); rolling {s.Target} wins the game. How likely is {s.Asked} to win?");

    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty, Phrasing phrasing)
    {
        bool zh = lang == TaskLanguage.Zh;
        int n = difficulty >= 3 ? 3 : 2;
        while (true)
        {
            int sides = difficulty == 1 ? 6 : rng.Pick(Sides);
            var target = difficulty == 1 ? Target.Face : (Target)rng.Int(0, 4);
            int f1 = rng.Int(1, sides), f2 = rng.Int(1, sides), above = rng.Int(1, sides - 1);
            if (target == Target.TwoFaces && f1 == f2) continue;
            if (f1 > f2) (f1, f2) = (f2, f1);
            int winning = target switch { Target.Face => 1, Target.TwoFaces => 2, Target.Even or Target.Odd => sides / 2, _ => sides - above };
            var p = new Rational(winning, sides);
            long a = (long)p.Numerator, b = (long)p.Denominator;
            // Three players multiply by b²: kept to table facts (b ≤ 10).
            if (n == 3 && b > 10) continue;

            string[] players = phrasing.Pick(n == 2 ? (zh ? ZhTwo : EnTwo) : (zh ? ZhThree : EnThree));
            int starter = rng.Int(0, n - 1), asked = rng.Int(0, n - 1);
            string die = sides == 6
                ? phrasing.Pick(zh ? ZhSixSided : EnSixSided)
                : phrasing.Pick(zh ? ZhOtherDie : EnOtherDie).Replace("{k}", S(sides)).Replace("{a}", sides == 8 ? "an" : "a");
            string targetText = zh
                ? target switch
                {
                    Target.Face => S(f1),
                    Target.TwoFaces => $"{S(f1)}或{S(f2)}",
                    Target.Even => "偶数",
                    Target.Odd => "奇数",
                    _ => $"大于{S(above)}的点数",
                }
                : target switch
                {
                    Target.Face => Article(f1),
                    Target.TwoFaces => $"{Article(f1)} or {Article(f2)}",
                    Target.Even => "an even number",
                    Target.Odd => "an odd number",
                    _ => $"a number greater than {S(above)}",
                };
            string playerList = zh
                ? (players[0].Length == 1 ? string.Concat(players) : string.Join("、", players[..^1]) + "和" + players[^1])
                : string.Join(", ", players[..^1]) + " and " + players[^1];
            var slots = new Slots(playerList, n == 2 ? "两" : "三", die, targetText, players[starter], players[asked]);
            string prompt = phrasing.Pick(zh ? ZhTemplates : EnTemplates)(slots);

            string of = zh ? $"{S(sides)}个面中{S(winning)}个" : $"{S(winning)} of {S(sides)}";
            string count = target switch
            {
                Target.Face => zh ? $"掷中的点：{S(f1)}" : $"winning faces: {S(f1)}",
                Target.TwoFaces => zh ? $"掷中的点：{S(f1)}、{S(f2)}" : $"winning faces: {S(f1)}, {S(f2)}",
                Target.Even => zh ? $"偶数点：{S(sides)}÷2={S(winning)}" : $"even faces: {S(sides)}÷2={S(winning)}",
                Target.Odd => zh ? $"奇数点：{S(sides)}÷2={S(winning)}" : $"odd faces: {S(sides)}÷2={S(winning)}",
                _ => zh ? $"大于{S(above)}的点：{S(sides)}-{S(above)}={S(winning)}" : $"faces above {S(above)}: {S(sides)}-{S(above)}={S(winning)}",
            };
            string reduced = winning == a ? $"p = {S(a)}/{S(b)}" : $"p = {S(winning)}/{S(sides)} = {S(a)}/{S(b)}";
            var order = Enumerable.Range(0, n).Select(i => players[(starter + i) % n]).ToList();
            int position = (asked - starter + n) % n;
            long miss = b - a;
            long[] weights = n == 2 ? [b, miss] : [b * b, b * miss, miss * miss];
            var lines = new List<string>
            {
                zh ? $"{count} → {of}，{reduced}，q = {S(miss)}/{S(b)}" : $"{count} → {of}, {reduced}, q = {S(miss)}/{S(b)}",
                zh ? $"顺序：{string.Join("、", order)}" : $"order: {string.Join(", ", order)}",
                zh ? $"第k个掷的人获胜的概率 = q^(k-1)·p·(1+q^{S(n)}+q^{S(2 * n)}+…)，所以比例是 {Ratio(n)}"
                   : $"P(k-th to roll wins) = q^(k-1)·p·(1+q^{S(n)}+q^{S(2 * n)}+…), so the chances are {Ratio(n)}",
                n == 2
                    ? $"×{S(b)}: {S(b)} : {S(miss)}"
                    : $"×{S(b * b)}: {Scratch.Fact(b, b)}, {Scratch.Fact(b, miss)}, {Scratch.Fact(miss, miss)} → {string.Join(" : ", weights.Select(S))}",
            };
            long total = weights[0];
            for (int i = 1; i < n; i++)
            {
                lines.Add(Scratch.Add(total, weights[i], lang));
                total += weights[i];
            }
            string answer = new Rational(weights[position], total).ToString();
            lines.Add(zh ? $"{players[asked]}是第{S(position + 1)}个：{answer}" : $"{players[asked]} rolls {Ordinal(position + 1)}: {answer}");
            return new TaskContent(prompt, string.Join("\n", lines), answer);
        }
    }

    private static string Ratio(int n) => n == 2 ? "1 : q" : "1 : q : q^2";

    private static string Ordinal(int i) => i switch { 1 => "1st", 2 => "2nd", _ => "3rd" };

    /// <summary>"a 6", "an 8", "an 11", "an 18".</summary>
    private static string Article(int face) => (face is 8 or 11 or 18 ? "an " : "a ") + S(face);
}
