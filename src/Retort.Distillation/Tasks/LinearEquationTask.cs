using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>
/// Linear equations with positive whole solutions, made backwards from the solution: ax ± b = c
/// (difficulty 1), ax + b = cx + d with x on both sides (2), and a 2×2 system solved for x by elimination
/// (3). Coefficients are one digit, so every step is a digit-by-digit operation of <see cref="Scratch"/>:
/// <code>
/// 3x + 7 = 25
/// 3x = 25-7: 15-7=8, write 8 borrow 1; 2-0-1=1, write 1 → 18
/// x = 18÷3=6
/// </code>
/// </summary>
internal static class LinearEquationTask
{
    private static readonly Phrase<string> ZhOne = Phrase.Of(["解方程：{q}，求 x 的值。", "求 x：{q}", "已知 {q}，x 等于多少？"], "若 {q}，则 x = ?");
    private static readonly Phrase<string> EnOne = Phrase.Of(["Solve for x: {q}", "Find x if {q}.", "What is x when {q}?"], "If {q}, then x = ?");
    private static readonly Phrase<string> ZhSystem = Phrase.Of(["解方程组：{a}，{b}。求 x 的值。", "已知 {a}，{b}，求 x。"], "方程组 {a}，{b} 中 x 等于多少？");
    private static readonly Phrase<string> EnSystem = Phrase.Of(["Solve the system {a} and {b}. What is x?", "Given {a} and {b}, find x."], "If {a} and {b}, what is x?");

    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty, Phrasing phrasing) => difficulty switch
    {
        1 => OneSided(rng, lang, phrasing),
        2 => TwoSided(rng, lang, phrasing),
        _ => System2(rng, lang, phrasing),
    };

    private static TaskContent OneSided(SplitMix64 rng, TaskLanguage lang, Phrasing phrasing)
    {
        long a = rng.Int(2, 9), x = rng.Int(1, 30), b = rng.Int(1, 60);
        bool minus = rng.Int(0, 1) == 1 && a * x >= b;
        long c = minus ? a * x - b : a * x + b;
        string equation = $"{Term(a, "x")} {(minus ? "-" : "+")} {S(b)} = {S(c)}";
        string move = minus ? Scratch.Add(c, b, lang) : Scratch.Subtract(c, b, lang);
        string reasoning = $"{Term(a, "x")} = {move}\nx = {Scratch.Divide(a * x, a, lang)}";
        string prompt = phrasing.Pick(lang == TaskLanguage.Zh ? ZhOne : EnOne).Replace("{q}", equation);
        return new TaskContent(prompt, reasoning, S(x));
    }

    /// <summary>ax + b = cx + d with a &gt; c, written either way round; the solution gathers x where its coefficient is larger.</summary>
    private static TaskContent TwoSided(SplitMix64 rng, TaskLanguage lang, Phrasing phrasing)
    {
        long a = rng.Int(2, 9), c = rng.Int(1, (int)a - 1), x = rng.Int(1, 20), k = a - c;
        // b ≠ 0 and d = (a - c)x + b ≥ 0, so the right side's constant is a plain number.
        long b;
        do b = rng.Int(-(int)Math.Min(40, k * x), 40); while (b == 0);
        long d = k * x + b;
        string big = $"{Term(a, "x")}{Signed(b)}", small = $"{Term(c, "x")}{Signed(d)}";
        bool swapped = rng.Int(0, 1) == 1;
        string equation = swapped ? $"{small} = {big}" : $"{big} = {small}";
        var lines = new List<string>
        {
            $"{Term(a, "x")}-{Term(c, "x")} = {S(d)}{(b >= 0 ? "-" : "+")}{S(Math.Abs(b))}",
            $"{S(a)}-{S(c)}={S(k)}",
            $"{Term(k, "x")} = {(b >= 0 ? Scratch.Subtract(d, b, lang) : Scratch.Add(d, -b, lang))}",
        };
        if (k != 1) lines.Add($"x = {Scratch.Divide(k * x, k, lang)}");
        string prompt = phrasing.Pick(lang == TaskLanguage.Zh ? ZhOne : EnOne).Replace("{q}", equation);
        return new TaskContent(prompt, string.Join("\n", lines), S(x));
    }

    /// <summary>
    /// a1x + b1y = c1, a2x + b2y = c2 with positive one-digit coefficients: multiply to match y's
    /// coefficient, subtract the smaller x-side from the larger (that difference kept to one digit), divide.
    /// </summary>
    private static TaskContent System2(SplitMix64 rng, TaskLanguage lang, Phrasing phrasing)
    {
        long a1, b1, a2, b2, det;
        do
        {
            a1 = rng.Int(1, 6); b1 = rng.Int(1, 6); a2 = rng.Int(1, 6); b2 = rng.Int(1, 6);
            det = a1 * b2 - a2 * b1;
        } while (det == 0 || Math.Abs(det) > 9);
        long x = rng.Int(1, 12), y = rng.Int(1, 12);
        long c1 = a1 * x + b1 * y, c2 = a2 * x + b2 * y;
        bool zh = lang == TaskLanguage.Zh;
        string e1 = $"{Linear2(a1, b1)} = {S(c1)}", e2 = $"{Linear2(a2, b2)} = {S(c2)}";
        long p1 = a1 * b2, p2 = a2 * b1, yy = b1 * b2, r1 = c1 * b2, r2 = c2 * b1;
        string first = zh ? "①" : "(1)", second = zh ? "②" : "(2)";
        var lines = new List<string>
        {
            $"{first}×{S(b2)}: {Scratch.Fact(a1, b2)}, {Scratch.Fact(b1, b2)}, {Scratch.Multiply(c1, b2, lang)}",
            $"{Term(p1, "x")} + {Term(yy, "y")} = {S(r1)}",
            $"{second}×{S(b1)}: {Scratch.Fact(a2, b1)}, {Scratch.Fact(b2, b1)}, {Scratch.Multiply(c2, b1, lang)}",
            $"{Term(p2, "x")} + {Term(yy, "y")} = {S(r2)}",
        };
        var (hiX, loX, hiC, loC) = det > 0 ? (p1, p2, r1, r2) : (p2, p1, r2, r1);
        lines.Add($"{Scratch.Subtract(hiX, loX, lang)}, {Scratch.Subtract(hiC, loC, lang)}");
        lines.Add($"{Term(Math.Abs(det), "x")} = {S(hiC - loC)}");
        if (Math.Abs(det) != 1) lines.Add($"x = {Scratch.Divide(hiC - loC, Math.Abs(det), lang)}");
        string prompt = phrasing.Pick(zh ? ZhSystem : EnSystem).Replace("{a}", e1).Replace("{b}", e2);
        return new TaskContent(prompt, string.Join("\n", lines), S(x));
    }
}
