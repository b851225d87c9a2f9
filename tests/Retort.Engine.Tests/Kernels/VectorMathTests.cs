using Retort.Engine.Kernels;

namespace Retort.Engine.Tests.Kernels;

public sealed class VectorMathTests
{
    private static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(1536)]
    public void DotMatchesTheScalarReference(int n)
    {
        float[] a = Random(n, n), b = Random(n, n + 1);
        double exact = 0;
        for (int i = 0; i < n; i++) exact += (double)a[i] * b[i];
        Assert.Equal(VectorMath.DotScalar(a, b), VectorMath.Dot(a, b), 1e-4 * Math.Sqrt(n));
        Assert.Equal(exact, VectorMath.Dot(a, b), 1e-4 * Math.Sqrt(n));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(256)]
    [InlineData(1536)]
    public void RmsNormMatchesTheScalarReference(int n)
    {
        float[] x = Random(n, 1), w = Random(n, 2), fast = new float[n], slow = new float[n];
        VectorMath.RmsNorm(x, w, 1e-6f, fast);
        VectorMath.RmsNormScalar(x, w, 1e-6f, slow);
        for (int i = 0; i < n; i++) Assert.Equal(slow[i], fast[i], 1e-5);
        // Independent check: the normalized vector (before the weight) has a mean square of one.
        double ms = 0;
        for (int i = 0; i < n; i++) ms += Math.Pow(slow[i] / w[i], 2);
        Assert.Equal(1.0, ms / n, 1e-3);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(8960 + 5)]
    public void SwiGluMatchesTheScalarReferenceAndTheDefinition(int n)
    {
        // Gates from −90 to 90: the tails, where e^−g overflows or vanishes, included.
        float[] gate = Random(n, 3).Select(v => 90 * v).ToArray(), up = Random(n, 4);
        gate[0] = -90f;
        gate[^1] = 90f;
        float[] fast = (float[])gate.Clone(), slow = (float[])gate.Clone();
        VectorMath.SwiGlu(fast, up);
        VectorMath.SwiGluScalar(slow, up);
        for (int i = 0; i < n; i++)
        {
            double g = gate[i], expected = g / (1 + Math.Exp(-g)) * up[i];
            Assert.True(float.IsFinite(fast[i]), $"element {i}: {fast[i]}");
            Assert.Equal(slow[i], fast[i], 2e-6 * Math.Abs(slow[i]) + 1e-30);
            Assert.Equal(expected, fast[i], 2e-6 * Math.Abs(expected) + 1e-30);
        }
    }

    [Fact]
    public void SoftmaxIsNormalisedAndStableForLargeLogits()
    {
        float[] x = [1000f, 1001f, 999f];
        VectorMath.Softmax(x);
        Assert.Equal(1.0, x.Sum(), 1e-6);
        double e = Math.E;
        Assert.Equal(e / (1 + e + 1 / e), x[1], 1e-6);
    }
}
