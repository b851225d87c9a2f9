using System.Text.RegularExpressions;

namespace Retort.Distillation.Tests.Support;

/// <summary>
/// Re-does every written-out operation of a solution, digit by digit: each column's digits must be the
/// operands' digits at that place, each sum, difference, product and quotient right, each carry, borrow
/// and remainder the one the column produced and the one the next column uses, and the result after →
/// the true value. Table facts ("6×5=30") are checked as equations. Knows the format only from its text.
/// </summary>
internal static partial class ScratchChecker
{
    /// <summary>Checks every operation in <paramref name="text"/> and returns them in order (a, op, b, result).</summary>
    public static List<(long A, char Op, long B, long Result)> Check(string text)
    {
        var operations = new List<(int At, long A, char Op, long B, long Result)>();
        string rest = text;
        foreach (Match m in LongForm().Matches(text))
        {
            long a = long.Parse(m.Groups["a"].Value), b = long.Parse(m.Groups["b"].Value), r = long.Parse(m.Groups["r"].Value);
            char op = m.Groups["op"].Value[0];
            string[] columns = m.Groups["cols"].Value.Split("; ");
            string where = $"'{m.Value}'";
            switch (op)
            {
                case '+': Add(a, b, columns, where); break;
                case '-': Subtract(a, b, columns, where); break;
                case '×': Multiply(a, b, columns, where); break;
                default: Divide(a, b, columns, where); break;
            }
            Assert.True(Value(a, op, b) == r, $"{where}: the result should be {Value(a, op, b)}");
            operations.Add((m.Index, a, op, b, r));
            rest = rest[..m.Index] + new string(' ', m.Length) + rest[(m.Index + m.Length)..];
        }
        foreach (Match m in Fact().Matches(rest))
        {
            long a = long.Parse(m.Groups["a"].Value), b = long.Parse(m.Groups["b"].Value), r = long.Parse(m.Groups["r"].Value);
            char op = m.Groups["op"].Value[0];
            Assert.True(Value(a, op, b) == r, $"'{m.Value}' in '{text}' is wrong");
            operations.Add((m.Index, a, op, b, r));
        }
        return operations.OrderBy(o => o.At).Select(o => (o.A, o.Op, o.B, o.Result)).ToList();
    }

    private static long Value(long a, char op, long b) => op switch
    {
        '+' => a + b,
        '-' => a - b,
        '×' => a * b,
        _ => a % b == 0 ? a / b : throw new Xunit.Sdk.XunitException($"{a} ÷ {b} is not exact"),
    };

    private static int DigitAt(long n, int place) => (int)(n / (long)Math.Pow(10, place) % 10);

    private static int Length(long n) => n.ToString().Length;

    private static void Add(long a, long b, string[] columns, string where)
    {
        Assert.True(Math.Max(Length(a), Length(b)) == columns.Length, $"{where}: one column per digit of the longer operand");
        int carry = 0;
        for (int i = 0; i < columns.Length; i++)
        {
            var c = AddColumn().Match(columns[i]);
            Assert.True(c.Success, $"{where}: column '{columns[i]}' is not x+y(+c)=v, write w( carry k)");
            int x = int.Parse(c.Groups["x"].Value), y = int.Parse(c.Groups["y"].Value), v = int.Parse(c.Groups["v"].Value);
            Assert.True(x == DigitAt(a, i) && y == DigitAt(b, i), $"{where}: column {i + 1} takes the wrong digits");
            Assert.True((c.Groups["c"].Success ? int.Parse(c.Groups["c"].Value) : 0) == carry, $"{where}: column {i + 1} takes the wrong carry");
            Assert.True(x + y + carry == v, $"{where}: column {i + 1} adds wrongly");
            CheckWrite(c, v, i == columns.Length - 1, where, i, out carry);
        }
    }

    private static void Multiply(long a, long k, string[] columns, string where)
    {
        Assert.True(Length(a) == columns.Length, $"{where}: one column per digit");
        long carry = 0;
        for (int i = 0; i < columns.Length; i++)
        {
            var c = MultiplyColumn().Match(columns[i]);
            Assert.True(c.Success, $"{where}: column '{columns[i]}' is not x×k(+c)=v, write w( carry k)");
            int x = int.Parse(c.Groups["x"].Value);
            long v = long.Parse(c.Groups["v"].Value);
            Assert.True(x == DigitAt(a, i) && long.Parse(c.Groups["m"].Value) == k, $"{where}: column {i + 1} takes the wrong digits");
            Assert.True((c.Groups["c"].Success ? long.Parse(c.Groups["c"].Value) : 0) == carry, $"{where}: column {i + 1} takes the wrong carry");
            Assert.True(x * k + carry == v, $"{where}: column {i + 1} multiplies wrongly");
            CheckWrite(c, (int)v, i == columns.Length - 1, where, i, out int next);
            carry = next;
        }
    }

    /// <summary>A middle column writes the last digit and carries the rest; the last column writes all of it.</summary>
    private static void CheckWrite(Match c, int v, bool last, string where, int i, out int carry)
    {
        int written = int.Parse(c.Groups["w"].Value);
        int stated = c.Groups["kk"].Success ? int.Parse(c.Groups["kk"].Value) : 0;
        if (last)
        {
            Assert.True(written == v && !c.Groups["kk"].Success, $"{where}: the last column writes {v} and carries nothing");
            carry = 0;
            return;
        }
        Assert.True(written == v % 10, $"{where}: column {i + 1} writes {written}, not the last digit of {v}");
        Assert.True(stated == v / 10, $"{where}: column {i + 1} carries {stated}, not {v / 10}");
        carry = v / 10;
    }

    private static void Subtract(long a, long b, string[] columns, string where)
    {
        Assert.True(Length(a) == columns.Length && a >= b, $"{where}: one column per digit of the larger number");
        int borrow = 0;
        for (int i = 0; i < columns.Length; i++)
        {
            var c = SubtractColumn().Match(columns[i]);
            Assert.True(c.Success, $"{where}: column '{columns[i]}' is not [1]x-y[-1]=v, write v[ borrow 1]");
            int x = int.Parse(c.Groups["x"].Value), y = int.Parse(c.Groups["y"].Value), v = int.Parse(c.Groups["v"].Value);
            Assert.True(x == DigitAt(a, i) && y == DigitAt(b, i), $"{where}: column {i + 1} takes the wrong digits");
            Assert.True(c.Groups["bin"].Success == (borrow == 1), $"{where}: column {i + 1} should {(borrow == 1 ? "" : "not ")}pay back a borrow");
            bool needs = x - y - borrow < 0;
            Assert.True(c.Groups["ten"].Success == needs && c.Groups["bout"].Success == needs, $"{where}: column {i + 1} should {(needs ? "" : "not ")}borrow");
            Assert.True((needs ? 10 : 0) + x - y - borrow == v && int.Parse(c.Groups["w"].Value) == v, $"{where}: column {i + 1} subtracts wrongly");
            borrow = needs ? 1 : 0;
        }
        Assert.True(borrow == 0, $"{where}: the last column cannot borrow");
    }

    private static void Divide(long a, long d, string[] columns, string where)
    {
        Assert.True(Length(a) == columns.Length, $"{where}: one step per digit, most significant first");
        long remainder = 0;
        for (int i = 0; i < columns.Length; i++)
        {
            var c = DivideStep().Match(columns[i]);
            Assert.True(c.Success, $"{where}: step '{columns[i]}' is not n÷d=q r");
            long current = remainder * 10 + DigitAt(a, Length(a) - 1 - i);
            Assert.True(long.Parse(c.Groups["cur"].Value) == current && long.Parse(c.Groups["d"].Value) == d, $"{where}: step {i + 1} should divide {current}");
            Assert.True(long.Parse(c.Groups["q"].Value) == current / d && long.Parse(c.Groups["r"].Value) == current % d, $"{where}: step {i + 1} divides wrongly");
            remainder = current % d;
        }
        Assert.True(remainder == 0, $"{where}: the division is not exact");
    }

    [GeneratedRegex(@"(?<a>\d+)(?<op>[+\-×÷])(?<b>\d+): (?<cols>[^→\n]*?) → (?<r>\d+)")]
    private static partial Regex LongForm();

    [GeneratedRegex(@"(?<![\d.])(?<a>\d+)(?<op>[+\-×÷])(?<b>\d+)=(?<r>\d+)")]
    private static partial Regex Fact();

    [GeneratedRegex(@"^(?<x>\d)\+(?<y>\d)(?:\+(?<c>\d))?=(?<v>\d+), (?:write |写)(?<w>\d+)(?:(?: carry |进)(?<kk>\d+))?$")]
    private static partial Regex AddColumn();

    [GeneratedRegex(@"^(?<x>\d)×(?<m>\d)(?:\+(?<c>\d+))?=(?<v>\d+), (?:write |写)(?<w>\d+)(?:(?: carry |进)(?<kk>\d+))?$")]
    private static partial Regex MultiplyColumn();

    [GeneratedRegex(@"^(?<ten>1)?(?<x>\d)-(?<y>\d)(?<bin>-1)?=(?<v>\d), (?:write |写)(?<w>\d)(?<bout> borrow 1|借1)?$")]
    private static partial Regex SubtractColumn();

    [GeneratedRegex(@"^(?<cur>\d+)÷(?<d>\d)=(?<q>\d+)(?: r|余)(?<r>\d)$")]
    private static partial Regex DivideStep();
}
