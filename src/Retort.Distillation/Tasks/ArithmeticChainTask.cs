using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>
/// An expression evaluated left to right one operation at a time, written with only the brackets that
/// precedence needs: + and − of up to two-digit numbers, × and ÷ by one digit (divisions exact). One line
/// per operation, each written out digit by digit (<see cref="Scratch"/>):
/// <code>
/// (47 + 85) × 3 - 29
/// 47+85: 7+5=12, write 2 carry 1; 4+8+1=13, write 13 → 132
/// 132×3: 2×3=6, write 6; 3×3=9, write 9; 1×3=3, write 3 → 396
/// 396-29: 16-9=7, write 7 borrow 1; 9-2-1=6, write 6; 3-0=3, write 3 → 367
/// </code>
/// Difficulty: 2, 3 or 4 operations on values below 1,000, 10,000, 100,000.
/// </summary>
internal static class ArithmeticChainTask
{
    private static readonly Phrase<string> ZhTemplates = Phrase.Of(["请逐步计算：{e}", "计算：{e}", "{e} = ?", "求 {e} 的值。", "{e} 等于多少？"], "算一算：{e}");
    private static readonly Phrase<string> EnTemplates = Phrase.Of(["Compute step by step: {e}", "Calculate {e}.", "What is {e}?", "{e} = ?", "Evaluate {e}."], "Work out {e}.");

    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty, Phrasing phrasing)
    {
        int steps = difficulty + 1;
        long limit = difficulty switch { 1 => 1_000, 2 => 10_000, _ => 100_000 };
        long value = rng.Int(2, 99);
        string expression = S(value);
        bool lastIsSum = false;
        var lines = new List<string>();
        for (int step = 0; step < steps; step++)
        {
            var (op, operand, result) = NextOperation(rng, value, limit);
            bool multiplicative = op is '×' or '÷';
            string left = multiplicative && lastIsSum ? $"({expression})" : expression;
            expression = $"{left} {op} {S(operand)}";
            lastIsSum = !multiplicative;
            lines.Add(op switch
            {
                '+' => Scratch.Add(value, operand, lang),
                '-' => Scratch.Subtract(value, operand, lang),
                '×' => Scratch.Multiply(value, operand, lang),
                _ => Scratch.Divide(value, operand, lang),
            });
            value = result;
        }
        string prompt = phrasing.Pick(lang == TaskLanguage.Zh ? ZhTemplates : EnTemplates).Replace("{e}", expression);
        return new TaskContent(prompt, string.Join("\n", lines), S(value));
    }

    private static (char Op, long Operand, long Result) NextOperation(SplitMix64 rng, long value, long limit)
    {
        while (true)
        {
            switch (rng.Int(0, 3))
            {
                case 0:
                {
                    long k = rng.Int(1, 99);
                    if (value + k < limit) return ('+', k, value + k);
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
                    if (value * k < limit) return ('×', k, value * k);
                    break;
                }
                default:
                {
                    var divisors = new List<long>();
                    for (long d = 2; d <= 9; d++)
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
