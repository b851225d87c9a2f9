using System.Globalization;
using System.Numerics;

namespace Retort.Distillation.Numerics;

/// <summary>An exact fraction in lowest terms with a positive denominator (probabilities, answers to compare).</summary>
internal readonly record struct Rational
{
    public Rational(BigInteger numerator, BigInteger denominator)
    {
        if (denominator.IsZero) throw new DivideByZeroException("a fraction's denominator is zero");
        if (denominator.Sign < 0) (numerator, denominator) = (-numerator, -denominator);
        var g = BigInteger.GreatestCommonDivisor(numerator, denominator);
        if (!g.IsOne && !g.IsZero) (numerator, denominator) = (numerator / g, denominator / g);
        Numerator = numerator;
        Denominator = denominator;
    }

    public BigInteger Numerator { get; }

    public BigInteger Denominator { get; }

    public bool IsInteger => Denominator.IsOne;

    public static Rational Zero => new(0, 1);

    public static Rational One => new(1, 1);

    public static implicit operator Rational(long value) => new(value, 1);

    public static Rational operator +(Rational a, Rational b) =>
        new(a.Numerator * b.Denominator + b.Numerator * a.Denominator, a.Denominator * b.Denominator);

    public static Rational operator -(Rational a, Rational b) =>
        new(a.Numerator * b.Denominator - b.Numerator * a.Denominator, a.Denominator * b.Denominator);

    public static Rational operator *(Rational a, Rational b) => new(a.Numerator * b.Numerator, a.Denominator * b.Denominator);

    public static Rational operator /(Rational a, Rational b) => new(a.Numerator * b.Denominator, a.Denominator * b.Numerator);

    public static Rational operator -(Rational a) => new(-a.Numerator, a.Denominator);

    public Rational Pow(int exponent) => new(BigInteger.Pow(Numerator, exponent), BigInteger.Pow(Denominator, exponent));

    /// <summary>"7", "-3" or "7/12".</summary>
    public override string ToString() => IsInteger
        ? Numerator.ToString(CultureInfo.InvariantCulture)
        : $"{Numerator.ToString(CultureInfo.InvariantCulture)}/{Denominator.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses an exact decimal ("-12.50", "3", ".5"); null when the text is not one.</summary>
    public static Rational? ParseDecimal(string text)
    {
        text = text.Trim();
        if (text.Length == 0) return null;
        bool negative = text[0] == '-';
        if (text[0] is '-' or '+') text = text[1..];
        int dot = text.IndexOf('.');
        string whole = dot < 0 ? text : text[..dot];
        string fraction = dot < 0 ? "" : text[(dot + 1)..];
        if (whole.Length + fraction.Length == 0) return null;
        foreach (char c in whole) if (c is < '0' or > '9') return null;
        foreach (char c in fraction) if (c is < '0' or > '9') return null;
        var numerator = BigInteger.Parse(whole + fraction, CultureInfo.InvariantCulture);
        return new Rational(negative ? -numerator : numerator, BigInteger.Pow(10, fraction.Length));
    }
}
