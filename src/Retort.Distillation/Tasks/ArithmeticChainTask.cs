using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>
/// An expression evaluated left to right one operation at a time, written with only the brackets
/// that precedence needs; every division is exact and values stay small enough to check by hand.
/// </summary>
internal static class ArithmeticChainTask
{
    private const long Limit = 100_000;

    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty)
    {
        int steps = difficulty + 2;
        long value = rng.Int(2, 60);
        string expression = S(value);
        bool lastIsSum = false;
        var lines = new List<string>();
        bool zh = lang == TaskLanguage.Zh;
        for (int step = 1; step <= steps; step++)
        {
            var (op, operand, result) = NextOperation(rng, value);
            bool multiplicative = op is '×' or '÷';
            string left = multiplicative && lastIsSum ? $"({expression})" : expression;
            expression = $"{left} {op} {S(operand)}";
            lastIsSum = !multiplicative;
            lines.Add(zh
                ? $"第{S(step)}步：{S(value)} {op} {S(operand)} = {S(result)}。"
                : $"Step {S(step)}: {S(value)} {op} {S(operand)} = {S(result)}.");
            value = result;
        }
        lines.Add(zh ? $"所以结果是 {S(value)}。" : $"So the result is {S(value)}.");
        string prompt = zh ? $"请逐步计算：{expression}" : $"Compute step by step: {expression}";
        string intro = zh ? "按运算顺序从左到右逐步计算（先算括号里的）。" : "Work from left to right in the order the brackets and operations require.";
        return new TaskContent(prompt, intro + "\n" + string.Join("\n", lines), S(value));
    }

    private static (char Op, long Operand, long Result) NextOperation(SplitMix64 rng, long value)
    {
        while (true)
        {
            switch (rng.Int(0, 3))
            {
                case 0:
                {
                    long k = rng.Int(1, 99);
                    if (value + k <= Limit) return ('+', k, value + k);
                    break;
                }
                case 1:
                {
                    long k = rng.Int(1, 99);
                    if (value - k >= 0) return ('-', k, value - k);
                    break;
                }
                case 2:
                {
                    long k = rng.Int(2, 9);
                    if (value * k <= Limit) return ('×', k, value * k);
                    break;
                }
                default:
                {
                    var divisors = new List<long>();
                    for (long d = 2; d <= 12; d++)
                        if (value % d == 0 && value / d >= 1) divisors.Add(d);
                    if (divisors.Count > 0)
                    {
                        long d = rng.Pick(divisors);
                        return ('÷', d, value / d);
                    }
                    break;
                }
            }
        }
    }
}
