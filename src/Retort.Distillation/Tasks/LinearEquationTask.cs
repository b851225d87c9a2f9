using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>
/// Linear equations with integer solutions, made backwards from the solution: ax + b = c (difficulty 1),
/// ax + b = cx + d (2), and a 2×2 system solved by elimination (3).
/// </summary>
internal static class LinearEquationTask
{
    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty) => difficulty switch
    {
        1 => OneSided(rng, lang),
        2 => TwoSided(rng, lang),
        _ => System2(rng, lang),
    };

    private static int NonZero(SplitMix64 rng, int lo, int hi)
    {
        while (true)
        {
            int v = rng.Int(lo, hi);
            if (v != 0) return v;
        }
    }

    private static TaskContent OneSided(SplitMix64 rng, TaskLanguage lang)
    {
        long a = NonZero(rng, -9, 12), x = rng.Int(-12, 20), b = NonZero(rng, -30, 30);
        if (a == 1) a = 2;
        long c = a * x + b, ax = c - b;
        bool zh = lang == TaskLanguage.Zh;
        string equation = $"{Term(a, "x")}{Signed(b)} = {S(c)}";
        string move = b > 0
            ? (zh ? $"两边同时减去{S(b)}：{Term(a, "x")} = {S(c)} - {S(b)} = {S(ax)}。" : $"Subtract {S(b)} from both sides: {Term(a, "x")} = {S(c)} - {S(b)} = {S(ax)}.")
            : (zh ? $"两边同时加上{S(-b)}：{Term(a, "x")} = {S(c)} + {S(-b)} = {S(ax)}。" : $"Add {S(-b)} to both sides: {Term(a, "x")} = {S(c)} + {S(-b)} = {S(ax)}.");
        string divide = zh ? $"两边同时除以{S(a)}：x = {S(ax)} ÷ {P(a)} = {S(x)}。" : $"Divide both sides by {S(a)}: x = {S(ax)} ÷ {P(a)} = {S(x)}.";
        string check = zh
            ? $"验算：{S(a)} × {P(x)}{Signed(b)} = {S(c)}，与右边相等。\n所以 x = {S(x)}。"
            : $"Check: {S(a)} × {P(x)}{Signed(b)} = {S(c)}, which matches the right side.\nSo x = {S(x)}.";
        string prompt = zh ? $"解方程：{equation}，求 x 的值。" : $"Solve for x: {equation}";
        return new TaskContent(prompt, $"{move}\n{divide}\n{check}", S(x));
    }

    private static TaskContent TwoSided(SplitMix64 rng, TaskLanguage lang)
    {
        long a = NonZero(rng, -9, 12), c;
        do c = NonZero(rng, -9, 12); while (c == a);
        long x = rng.Int(-15, 25), b = rng.Int(-40, 40);
        long d = a * x + b - c * x;
        long k = a - c, rhs = d - b;
        bool zh = lang == TaskLanguage.Zh;
        string left = $"{Term(a, "x")}{Signed(b)}", right = $"{Term(c, "x")}{Signed(d)}";
        string prompt = zh ? $"解方程：{left} = {right}，求 x 的值。" : $"Solve for x: {left} = {right}";
        string collect = zh
            ? $"把含 x 的项移到左边，常数项移到右边：({S(a)} - {P(c)})x = {S(d)} - {P(b)}。\n化简得 {Term(k, "x")} = {S(rhs)}。"
            : $"Move the x terms to the left and the constants to the right: ({S(a)} - {P(c)})x = {S(d)} - {P(b)}.\nThis simplifies to {Term(k, "x")} = {S(rhs)}.";
        string divide = zh ? $"两边同时除以{S(k)}：x = {S(rhs)} ÷ {P(k)} = {S(x)}。" : $"Divide both sides by {S(k)}: x = {S(rhs)} ÷ {P(k)} = {S(x)}.";
        long lv = a * x + b, rv = c * x + d;
        string check = zh
            ? $"验算：左边 = {S(a)} × {P(x)}{Signed(b)} = {S(lv)}，右边 = {S(c)} × {P(x)}{Signed(d)} = {S(rv)}，两边相等。\n所以 x = {S(x)}。"
            : $"Check: left side {S(a)} × {P(x)}{Signed(b)} = {S(lv)}, right side {S(c)} × {P(x)}{Signed(d)} = {S(rv)}; they are equal.\nSo x = {S(x)}.";
        return new TaskContent(prompt, $"{collect}\n{divide}\n{check}", S(x));
    }

    private static TaskContent System2(SplitMix64 rng, TaskLanguage lang)
    {
        long a1, b1, a2, b2, det;
        do
        {
            a1 = NonZero(rng, -6, 9); b1 = NonZero(rng, -6, 9); a2 = NonZero(rng, -6, 9); b2 = NonZero(rng, -6, 9);
            det = a1 * b2 - a2 * b1;
        } while (det == 0);
        long x = rng.Int(-10, 15), y = rng.Int(-10, 15);
        long c1 = a1 * x + b1 * y, c2 = a2 * x + b2 * y;
        long rhs = c1 * b2 - c2 * b1, b1y = c1 - a1 * x;
        bool zh = lang == TaskLanguage.Zh;
        string e1 = $"{Linear2(a1, b1)} = {S(c1)}", e2 = $"{Linear2(a2, b2)} = {S(c2)}";
        string prompt = zh
            ? $"解方程组：{e1}，{e2}。求 x 的值。"
            : $"Solve the system of equations {e1} and {e2}. What is x?";
        string reasoning = zh
            ? $"第一个方程乘以{P(b2)}，第二个方程乘以{P(b1)}，使 y 的系数相同：\n" +
              $"{S(a1 * b2)}x + {P(b1 * b2)}y = {S(c1 * b2)}，{S(a2 * b1)}x + {P(b1 * b2)}y = {S(c2 * b1)}。\n" +
              $"两式相减消去 y：({S(a1 * b2)} - {P(a2 * b1)})x = {S(c1 * b2)} - {P(c2 * b1)}，即 {Term(det, "x")} = {S(rhs)}。\n" +
              $"所以 x = {S(rhs)} ÷ {P(det)} = {S(x)}。\n" +
              $"代入第一个方程：{S(b1)}y = {S(c1)} - {S(a1)} × {P(x)} = {S(b1y)}，所以 y = {S(b1y)} ÷ {P(b1)} = {S(y)}。\n" +
              $"验算第二个方程：{S(a2)} × {P(x)} + {S(b2)} × {P(y)} = {S(c2)}，正确。\n所以 x = {S(x)}。"
            : $"Multiply the first equation by {S(b2)} and the second by {S(b1)} so that y has the same coefficient:\n" +
              $"{S(a1 * b2)}x + {P(b1 * b2)}y = {S(c1 * b2)} and {S(a2 * b1)}x + {P(b1 * b2)}y = {S(c2 * b1)}.\n" +
              $"Subtract to eliminate y: ({S(a1 * b2)} - {P(a2 * b1)})x = {S(c1 * b2)} - {P(c2 * b1)}, that is {Term(det, "x")} = {S(rhs)}.\n" +
              $"So x = {S(rhs)} ÷ {P(det)} = {S(x)}.\n" +
              $"Substitute into the first equation: {S(b1)}y = {S(c1)} - {S(a1)} × {P(x)} = {S(b1y)}, so y = {S(b1y)} ÷ {P(b1)} = {S(y)}.\n" +
              $"Check the second equation: {S(a2)} × {P(x)} + {S(b2)} × {P(y)} = {S(c2)}, as required.\nSo x = {S(x)}.";
        return new TaskContent(prompt, reasoning, S(x));
    }
}
