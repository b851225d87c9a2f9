using System.Globalization;

namespace Retort.Distillation.Tasks;

/// <summary>Number formatting shared by the task texts (invariant culture, negatives bracketed inside products).</summary>
internal static class Num
{
    public static string S(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>A factor in a product: "(-3)" rather than "-3", so "2 × (-3)" reads unambiguously.</summary>
    public static string P(long v) => v < 0 ? $"({S(v)})" : S(v);

    /// <summary>"3x", "x", "-x", "-3x".</summary>
    public static string Term(long coefficient, string variable) => coefficient switch
    {
        1 => variable,
        -1 => "-" + variable,
        _ => S(coefficient) + variable,
    };

    /// <summary>Appends " + 5" or " - 5" to an expression (nothing for 0).</summary>
    public static string Signed(long v) => v switch
    {
        0 => "",
        > 0 => $" + {S(v)}",
        _ => $" - {S(-v)}",
    };

    /// <summary>"3x + 2y", "x - y": a two-variable linear form.</summary>
    public static string Linear2(long a, long b) =>
        Term(a, "x") + (b > 0 ? $" + {Term(b, "y")}" : $" - {Term(-b, "y")}");
}
