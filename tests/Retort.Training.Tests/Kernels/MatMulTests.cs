using Retort.Engine.Kernels;
using Retort.Training.Kernels;

namespace Retort.Training.Tests.Kernels;

/// <summary>The packed, vectorized, threaded product held to the scalar definition on shapes that exercise every edge.</summary>
public class MatMulTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 3, 5, 2 }, { 4, 16, 7 }, { 5, 17, 300 }, { 67, 33, 9 }, { 130, 70, 513 }, { 64, 32, 256 }, { 9, 100, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EqualsScalarReference(int m, int n, int k)
    {
        var random = new Random(m * 1000 + n * 10 + k);
        using var pool = new WorkerPool(2);
        var mm = new MatMul(pool);
        var serial = new MatMul(null);
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                {
                    var a = Fill(random, m * k);
                    var b = Fill(random, k * n);
                    var start = Fill(random, m * n);
                    var expected = (float[])start.Clone();
                    MatMul.MultiplyScalar(a, ta, b, tb, expected, m, n, k, accumulate);
                    foreach (var kernel in new[] { mm, serial })
                    {
                        var actual = (float[])start.Clone();
                        kernel.Multiply(a, ta, b, tb, actual, m, n, k, accumulate);
                        for (int i = 0; i < m * n; i++)
                        {
                            // Each sum has k products of terms below 1: float32 reordering moves it by a few ulps of k.
                            double bound = 1e-6 * (k + 1) + 1e-6 * Math.Abs(expected[i]);
                            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound,
                                $"m={m} n={n} k={k} ta={ta} tb={tb} acc={accumulate} [{i}]: expected {expected[i]}, got {actual[i]}");
                        }
                    }
                }
    }

    [Fact]
    public void RejectsBuffersTooSmall()
    {
        var mm = new MatMul(null);
        Assert.Throws<ArgumentException>(() => mm.Multiply(new float[5], false, new float[6], false, new float[4], 2, 2, 3, false));
    }

    private static float[] Fill(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
