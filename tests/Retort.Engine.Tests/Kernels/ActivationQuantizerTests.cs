using Retort.Engine.Kernels;

namespace Retort.Engine.Tests.Kernels;

public sealed unsafe class ActivationQuantizerTests
{
    [Fact]
    public void VectorQ8MatchesScalarAndRoundTripsWithinHalfAStep()
    {
        var rng = new Random(5);
        float[] x = TestBlocks.RandomActivations(1024, rng);
        var q1 = new sbyte[1024]; var q2 = new sbyte[1024];
        var d1 = new float[32]; var d2 = new float[32];
        var s1 = new float[32]; var s2 = new float[32];
        fixed (float* xp = x)
        fixed (sbyte* a = q1, b = q2)
        fixed (float* da = d1, db = d2, sa = s1, sb = s2)
        {
            ActivationQuantizer.QuantizeQ8Scalar(xp, 1024, a, da, sa);
            ActivationQuantizer.QuantizeQ8(xp, 1024, b, db, sb);
        }
        Assert.Equal(q1, q2);
        Assert.Equal(d1, d2);
        for (int blk = 0; blk < 32; blk++)
        {
            int sum = 0;
            for (int i = 0; i < 32; i++)
            {
                int k = blk * 32 + i;
                Assert.True(Math.Abs(x[k] - d1[blk] * q1[k]) <= d1[blk] * 0.5001 + 1e-12, $"element {k}");
                sum += q1[k];
            }
            Assert.Equal(d1[blk] * sum, s2[blk], 3);
        }
        Assert.Equal(0f, d1[1]); // the all-zero block
    }

    [Fact]
    public void VectorQ8KMatchesScalarAndBlockSumsAreSumsOfSixteen()
    {
        var rng = new Random(6);
        float[] x = TestBlocks.RandomActivations(768, rng);
        var q1 = new sbyte[768]; var q2 = new sbyte[768];
        var d1 = new float[3]; var d2 = new float[3];
        var b1 = new short[48]; var b2 = new short[48];
        fixed (float* xp = x)
        fixed (sbyte* a = q1, b = q2)
        fixed (float* da = d1, db = d2)
        fixed (short* ba = b1, bb = b2)
        {
            ActivationQuantizer.QuantizeQ8KScalar(xp, 768, a, da, ba);
            ActivationQuantizer.QuantizeQ8K(xp, 768, b, db, bb);
        }
        Assert.Equal(q1, q2);
        Assert.Equal(d1, d2);
        Assert.Equal(b1, b2);
        for (int g = 0; g < 48; g++)
        {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += q1[g * 16 + i];
            Assert.Equal(sum, b1[g]);
        }
        for (int k = 0; k < 768; k++) Assert.True(Math.Abs(x[k] - d1[k / 256] * q1[k]) <= d1[k / 256] * 0.5001, $"element {k}");
    }
}
