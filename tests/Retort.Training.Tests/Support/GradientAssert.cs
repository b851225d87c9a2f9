namespace Retort.Training.Tests.Support;

/// <summary>
/// Compares a gradient with a reference. The headline metric is max|a − b| / max|b| (the error
/// relative to the tensor's scale, so tiny entries do not dominate); the elementwise check bounds
/// each entry by a mix of its own size and the tensor's scale.
/// </summary>
internal static class GradientAssert
{
    public static double ScaledError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    public static void Close(string name, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double scaled, double elementwise)
    {
        double error = ScaledError(actual, expected);
        Assert.True(error <= scaled, $"{name}: max|a-b|/max|b| = {error:E3} > {scaled:E1}");
        double maxRef = 0;
        foreach (float e in expected) maxRef = Math.Max(maxRef, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = elementwise * (Math.Abs(expected[i]) + 0.01 * maxRef);
            Assert.True(Math.Abs(actual[i] - expected[i]) <= bound,
                $"{name}[{i}]: expected {expected[i]:G9}, got {actual[i]:G9} (bound {bound:E2})");
        }
    }
}
