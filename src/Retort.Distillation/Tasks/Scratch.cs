using System.Text;
using Retort.Engine;
using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>
/// The written-out arithmetic every family uses, in one format (after Lee et al., "Teaching Arithmetic to
/// Small Transformers", ICLR 2024: a small model learns the digit steps when each is short, local and
/// always written the same way). Columns go least-significant digit first for +, − and ×, with the
/// carry or borrow stated; division goes most-significant first with the remainder carried down.
/// Operations on single digits (and divisions with a one-digit quotient) are table facts: one step.
/// <code>
/// 47+85: 7+5=12, write 2 carry 1; 4+8+1=13, write 13 → 132
/// 35-17: 15-7=8, write 8 borrow 1; 3-1-1=1, write 1 → 18
/// 35×4: 5×4=20, write 0 carry 2; 3×4+2=14, write 14 → 140
/// 96÷4: 9÷4=2 r1; 16÷4=4 r0 → 24
/// </code>
/// Chinese uses the same symbols and separators with 写 (write), 进 (carry), 借 (borrow) and 余 (remainder).
/// </summary>
internal static class Scratch
{
    private sealed record Words(string Write, string Carry, string Borrow, string Remainder);

    private static readonly Words En = new("write ", " carry ", " borrow 1", " r");
    private static readonly Words Zh = new("写", "进", "借1", "余");

    public const string Arrow = " → ";

    private static Words For(TaskLanguage lang) => lang == TaskLanguage.Zh ? Zh : En;

    /// <summary>a + b for a, b ≥ 0.</summary>
    public static string Add(long a, long b, TaskLanguage lang)
    {
        Require(a >= 0 && b >= 0, $"{a} + {b}");
        if (a < 10 && b < 10) return $"{S(a)}+{S(b)}={S(a + b)}";
        var w = For(lang);
        int[] x = Digits(a), y = Digits(b);
        int columns = Math.Max(x.Length, y.Length);
        var sb = new StringBuilder($"{S(a)}+{S(b)}: ");
        int carry = 0;
        for (int i = 0; i < columns; i++)
        {
            int xi = At(x, i), yi = At(y, i), v = xi + yi + carry;
            if (i > 0) sb.Append("; ");
            sb.Append($"{xi}+{yi}{(carry > 0 ? $"+{carry}" : "")}={v}, {w.Write}");
            if (i == columns - 1) sb.Append(v);
            else
            {
                sb.Append(v % 10);
                carry = v / 10;
                if (carry > 0) sb.Append(w.Carry).Append(carry);
            }
        }
        return sb.Append(Arrow).Append(S(a + b)).ToString();
    }

    /// <summary>a − b for a ≥ b ≥ 0.</summary>
    public static string Subtract(long a, long b, TaskLanguage lang)
    {
        Require(a >= b && b >= 0, $"{a} - {b}");
        if (a < 10) return $"{S(a)}-{S(b)}={S(a - b)}";
        var w = For(lang);
        int[] x = Digits(a), y = Digits(b);
        var sb = new StringBuilder($"{S(a)}-{S(b)}: ");
        int borrow = 0;
        for (int i = 0; i < x.Length; i++)
        {
            int xi = x[i], yi = At(y, i), v = xi - yi - borrow;
            bool borrows = v < 0;
            if (borrows) v += 10;
            if (i > 0) sb.Append("; ");
            sb.Append($"{(borrows ? "1" : "")}{xi}-{yi}{(borrow > 0 ? "-1" : "")}={v}, {w.Write}{v}");
            if (borrows) sb.Append(w.Borrow);
            borrow = borrows ? 1 : 0;
        }
        return sb.Append(Arrow).Append(S(a - b)).ToString();
    }

    /// <summary>a × k for a ≥ 0 and a one-digit k (the written multiplication by a small number).</summary>
    public static string Multiply(long a, long k, TaskLanguage lang)
    {
        Require(a >= 0 && k is >= 0 and <= 9, $"{a} × {k}");
        if (a < 10) return $"{S(a)}×{S(k)}={S(a * k)}";
        var w = For(lang);
        int[] x = Digits(a);
        var sb = new StringBuilder($"{S(a)}×{S(k)}: ");
        long carry = 0;
        for (int i = 0; i < x.Length; i++)
        {
            long v = x[i] * k + carry;
            if (i > 0) sb.Append("; ");
            sb.Append($"{x[i]}×{S(k)}{(carry > 0 ? $"+{S(carry)}" : "")}={S(v)}, {w.Write}");
            if (i == x.Length - 1) sb.Append(S(v));
            else
            {
                sb.Append(v % 10);
                carry = v / 10;
                if (carry > 0) sb.Append(w.Carry).Append(S(carry));
            }
        }
        return sb.Append(Arrow).Append(S(a * k)).ToString();
    }

    /// <summary>a ÷ d for a one-digit d that divides a (long division, the remainder carried to the next digit).</summary>
    public static string Divide(long a, long d, TaskLanguage lang)
    {
        Require(a >= 0 && d is >= 1 and <= 9 && a % d == 0, $"{a} ÷ {d}");
        if (a < 10 * d) return $"{S(a)}÷{S(d)}={S(a / d)}";
        var w = For(lang);
        int[] x = Digits(a);
        var sb = new StringBuilder($"{S(a)}÷{S(d)}: ");
        long remainder = 0;
        for (int i = x.Length - 1; i >= 0; i--)
        {
            long current = remainder * 10 + x[i];
            long q = current / d;
            remainder = current % d;
            if (i < x.Length - 1) sb.Append("; ");
            sb.Append($"{S(current)}÷{S(d)}={S(q)}{w.Remainder}{S(remainder)}");
        }
        return sb.Append(Arrow).Append(S(a / d)).ToString();
    }

    /// <summary>A one-digit times one-digit fact, or a multiple of 10 times a digit ("6×5=30", "10×9=90").</summary>
    public static string Fact(long a, long b) => $"{S(a)}×{S(b)}={S(a * b)}";

    /// <summary>The decimal digits of n, least significant first (0 is one digit).</summary>
    internal static int[] Digits(long n)
    {
        if (n == 0) return [0];
        var digits = new List<int>();
        for (long v = n; v > 0; v /= 10) digits.Add((int)(v % 10));
        return digits.ToArray();
    }

    private static int At(int[] digits, int i) => i < digits.Length ? digits[i] : 0;

    private static void Require(bool condition, string what)
    {
        if (!condition) throw new RetortException($"internal: written arithmetic asked for {what}, outside what it writes out");
    }
}
