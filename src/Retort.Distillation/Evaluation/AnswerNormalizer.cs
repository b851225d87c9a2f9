using System.Text.RegularExpressions;
using Retort.Distillation.Numerics;

namespace Retort.Distillation.Evaluation;

/// <summary>
/// Puts answers into one form so that "1,234", "1234.0", "\boxed{1234}" agree, as do "3/4", "\frac{3}{4}",
/// "0.75" and "75%", and "(C)", "C." and "C". Numbers are compared exactly (decimals are exact fractions);
/// anything else by its text with LaTeX spacing, \text{}, $…$ and case removed. Verdict references (会, 不一定, yes,
/// not necessarily) compare by what the answer says, in either language; labelled counts ("鸡23只，兔12只") by the
/// count of each name, in any order and wording.
/// </summary>
public static partial class AnswerNormalizer
{
    public static bool Equivalent(string? candidate, string reference)
    {
        if (candidate == null) return false;
        if (Verdict.OfReference(reference) is { } verdict) return Verdict.Classify(candidate) == verdict;
        if (LabelledCounts.OfReference(reference) is { } counts) return LabelledCounts.Equivalent(candidate, counts);
        var a = Normalize(candidate);
        var b = Normalize(reference);
        if (a.Value is Rational x && b.Value is Rational y)
        {
            var hundred = new Rational(100, 1);
            return x == y || (a.Percent && !b.Percent && x / hundred == y) || (b.Percent && !a.Percent && y / hundred == x);
        }
        return a.Text.Length > 0 && a.Text == b.Text;
    }

    /// <summary>True when the reference is a choice letter, so extraction should look for one.</summary>
    public static bool IsChoice(string reference) => ChoicePattern().IsMatch(Clean(reference));

    /// <summary>The canonical text an answer is compared by (for reports).</summary>
    public static string Canonical(string answer) => Normalize(answer).Text;

    internal static NormalizedAnswer Normalize(string answer)
    {
        string text = Clean(answer);
        var choice = ChoicePattern().Match(text);
        if (choice.Success) return new NormalizedAnswer(choice.Groups[1].Value, null, false);

        bool percent = text.EndsWith('%');
        if (percent) text = text[..^1].TrimEnd();
        if (Number(text) is Rational value) return new NormalizedAnswer(value.ToString() + (percent ? "%" : ""), value, percent);
        if (percent) text += "%";
        return new NormalizedAnswer(text.ToLowerInvariant(), null, false);
    }

    /// <summary>Strips what does not change the meaning: boxes, $…$, \text{}, \left/\right, LaTeX spaces, "x =", a final period.</summary>
    private static string Clean(string answer)
    {
        string text = answer.Trim();
        if (AnswerExtractor.LastBoxed(text) is { } boxed && text.StartsWith("\\boxed", StringComparison.Ordinal)) text = boxed;
        text = text.Trim().Trim('$').Trim();
        if (text.StartsWith("\\(", StringComparison.Ordinal) && text.EndsWith("\\)", StringComparison.Ordinal)) text = text[2..^2];
        text = TextCommand().Replace(text, "$1");
        text = text.Replace("\\left", "").Replace("\\right", "").Replace("\\!", "").Replace("\\,", "").Replace("\\;", "")
            .Replace("\\%", "%").Replace("\\dfrac", "\\frac").Replace("\\tfrac", "\\frac").Replace("^\\circ", "").Replace("°", "");
        text = Assignment().Replace(text, "");
        text = WhiteSpace().Replace(text.Trim(), " ");
        return text.TrimEnd('.', '。').Trim();
    }

    private static Rational? Number(string text)
    {
        text = text.Replace(" ", "");
        var frac = LatexFraction().Match(text);
        if (frac.Success)
        {
            var g = frac.Groups;
            var value = g[2].Success ? Fraction(g[2].Value, g[3].Value) : Fraction(g[4].Value, g[5].Value);
            return g[1].Value == "-" && value is Rational v ? -v : value;
        }
        if (ThousandsPattern().IsMatch(text)) text = text.Replace(",", "");
        int slash = text.IndexOf('/');
        if (slash > 0) return Fraction(text[..slash], text[(slash + 1)..]);
        return Rational.ParseDecimal(text);
    }

    private static Rational? Fraction(string numerator, string denominator)
    {
        if (Rational.ParseDecimal(numerator) is not Rational n || Rational.ParseDecimal(denominator) is not Rational d || d == Rational.Zero) return null;
        return n / d;
    }

    [GeneratedRegex(@"^\(?([A-E])\)?[.)]?$")]
    private static partial Regex ChoicePattern();

    [GeneratedRegex(@"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}")]
    private static partial Regex TextCommand();

    [GeneratedRegex(@"^[a-zA-Z]\s*=\s*")]
    private static partial Regex Assignment();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();

    // \frac{a}{b}, and the shorthand \frac12 that MATH solutions use.
    [GeneratedRegex(@"^(-?)\\frac(?:\{(-?\d+(?:\.\d+)?)\}\{(-?\d+(?:\.\d+)?)\}|(\d)(\d))$")]
    private static partial Regex LatexFraction();

    [GeneratedRegex(@"^-?\d{1,3}(,\d{3})+(\.\d+)?$")]
    private static partial Regex ThousandsPattern();
}
