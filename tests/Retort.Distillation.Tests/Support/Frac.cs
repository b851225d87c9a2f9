using System.Numerics;

namespace Retort.Distillation.Tests.Support;

/// <summary>
/// The tests' own exact fraction, kept apart from the library's so that answers are checked by
/// independent arithmetic rather than by the code under test.
/// </summary>
internal readonly record struct Frac
{
    public Frac(BigInteger n, BigInteger d)
    {
        if (d.Sign < 0) (n, d) = (-n, -d);
        var g = BigInteger.GreatestCommonDivisor(n, d);
        if (g > 1) (n, d) = (n / g, d / g);
        N = n;
        D = d;
    }

    public BigInteger N { get; }

    public BigInteger D { get; }

    public static implicit operator Frac(long v) => new(v, 1);

    public static Frac operator +(Frac a, Frac b) => new(a.N * b.D + b.N * a.D, a.D * b.D);

    public static Frac operator -(Frac a, Frac b) => new(a.N * b.D - b.N * a.D, a.D * b.D);

    public static Frac operator *(Frac a, Frac b) => new(a.N * b.N, a.D * b.D);

    public static Frac operator /(Frac a, Frac b) => new(a.N * b.D, a.D * b.N);

    public override string ToString() => D.IsOne ? N.ToString() : $"{N}/{D}";
}
