using Retort.Training.Optim;

namespace Retort.Training.Tests;

public class AdamWTests
{
    [Fact]
    public void TwoStepsMatchHandComputedValues()
    {
        // w=1, g=0.5, lr=0.1, wd=0.01. Step 1: w=1-0.001=0.999; m̂=0.5, v̂=0.25 → w -= 0.1·0.5/0.5 → 0.899.
        // Step 2 with g=-1: w=0.899·0.999=0.898101; m=0.9·0.05-0.1=-0.055, m̂=-0.055/0.19;
        // v=0.999·0.00025+0.001=0.00124975, v̂=v/0.001999 → w += 0.1·(0.055/0.19)/√v̂.
        var opt = new AdamW(1, weightDecay: 0.01);
        float[] w = [1f];
        opt.Update(w, [0.5f], 0.1);
        Assert.Equal(0.899, w[0], 6);
        opt.Update(w, [-1f], 0.1);
        var expected = 0.898101 + 0.1 * (0.055 / 0.19) / (Math.Sqrt(0.00124975 / 0.001999) + 1e-8);
        Assert.Equal(expected, w[0], 5);
        Assert.Equal(2, opt.Step);
    }

    [Fact]
    public void ScheduleWarmsUpThenDecaysByCosine()
    {
        Assert.Equal(0.25, AdamW.Schedule(0, 4, 14, 1), 12);
        Assert.Equal(1.0, AdamW.Schedule(4, 4, 14, 1), 12);
        Assert.Equal(0.5, AdamW.Schedule(9, 4, 14, 1), 12);
        Assert.Equal(0.1, AdamW.Schedule(14, 4, 14, 1, 0.1), 12);
    }

    [Fact]
    public void ClippingScalesToTheGlobalNorm()
    {
        float[] a = [3f], b = [4f];
        Assert.Equal(5, AdamW.ClipByGlobalNorm([a, b], 1), 6);
        Assert.Equal(0.6, a[0], 5);
        Assert.Equal(0.8, b[0], 5);
        float[] c = [0.1f];
        AdamW.ClipByGlobalNorm([c], 1);
        Assert.Equal(0.1f, c[0]);
    }
}
