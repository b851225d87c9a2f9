using Retort.Distillation.Tests.Support;

namespace Retort.Distillation.Tests.Tasks;

/// <summary>A small recursive-descent evaluator for + - × ÷ and brackets, exact, for checking arithmetic chains.</summary>
internal sealed class ExpressionEvaluator(string text)
{
    private int _at;

    public static Frac Evaluate(string text)
    {
        var e = new ExpressionEvaluator(text);
        var v = e.Sum();
        e.Skip();
        Assert.Equal(text.Length, e._at);
        return v;
    }

    private void Skip()
    {
        while (_at < text.Length && text[_at] == ' ') _at++;
    }

    private Frac Sum()
    {
        var v = Product();
        while (true)
        {
            Skip();
            if (_at >= text.Length || text[_at] is not ('+' or '-')) return v;
            char op = text[_at++];
            var r = Product();
            v = op == '+' ? v + r : v - r;
        }
    }

    private Frac Product()
    {
        var v = Atom();
        while (true)
        {
            Skip();
            if (_at >= text.Length || text[_at] is not ('×' or '÷')) return v;
            char op = text[_at++];
            var r = Atom();
            v = op == '×' ? v * r : v / r;
        }
    }

    private Frac Atom()
    {
        Skip();
        if (text[_at] == '(')
        {
            _at++;
            var v = Sum();
            Skip();
            Assert.Equal(')', text[_at]);
            _at++;
            return v;
        }
        int start = _at;
        while (_at < text.Length && char.IsAsciiDigit(text[_at])) _at++;
        Assert.True(_at > start, $"expected a number at {start} in '{text}'");
        return long.Parse(text[start.._at]);
    }
}
