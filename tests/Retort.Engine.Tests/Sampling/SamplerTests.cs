using Retort.Engine.Sampling;

namespace Retort.Engine.Tests.Sampling;

public sealed class SamplerTests
{
    private static float[] LogProbs(params double[] p) => p.Select(x => (float)Math.Log(x)).ToArray();

    private static int[] Histogram(SamplingOptions options, float[] logits, int draws)
    {
        var sampler = new Sampler(options);
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++) counts[sampler.Sample((float[])logits.Clone(), [])]++;
        return counts;
    }

    [Fact]
    public void GreedyTakesTheLargestLogitAndTheLowestIdOnTies()
    {
        var sampler = new Sampler(SamplingOptions.Greedy);
        Assert.Equal(2, sampler.Sample(new float[] { 1f, 3f, 5f, 4f }, []));
        Assert.Equal(1, sampler.Sample(new float[] { 1f, 7f, 7f, 4f }, []));
    }

    [Fact]
    public void TopPKeepsTheSmallestSetReachingP()
    {
        // p = 0.5, 0.3, 0.2: top-p 0.6 keeps the first two, renormalized to 0.625 / 0.375.
        var counts = Histogram(new SamplingOptions { Temperature = 1f, TopP = 0.6f, Seed = 1 }, LogProbs(0.5, 0.3, 0.2), 4000);
        Assert.Equal(0, counts[2]);
        Assert.InRange(counts[0] / 4000.0, 0.59, 0.66);
    }

    [Fact]
    public void MinPDropsTokensBelowAFractionOfTheBest()
    {
        // min-p 0.5 with best 0.5: threshold 0.25 keeps 0.5 and 0.3, drops 0.2.
        var counts = Histogram(new SamplingOptions { Temperature = 1f, TopP = 1f, MinP = 0.5f, Seed = 2 }, LogProbs(0.5, 0.3, 0.2), 3000);
        Assert.Equal(0, counts[2]);
        Assert.True(counts[1] > 0);
    }

    [Fact]
    public void TopKOneIsGreedy()
    {
        var counts = Histogram(new SamplingOptions { Temperature = 1.5f, TopK = 1, TopP = 1f, Seed = 3 }, LogProbs(0.2, 0.5, 0.3), 500);
        Assert.Equal(500, counts[1]);
    }

    [Fact]
    public void TemperatureSharpensTheDistribution()
    {
        // At T = 0.5 the probabilities become p² renormalized: 0.25/0.38, 0.09/0.38, 0.04/0.38.
        var counts = Histogram(new SamplingOptions { Temperature = 0.5f, TopP = 1f, Seed = 4 }, LogProbs(0.5, 0.3, 0.2), 20000);
        Assert.InRange(counts[0] / 20000.0, 0.25 / 0.38 - 0.02, 0.25 / 0.38 + 0.02);
        Assert.InRange(counts[2] / 20000.0, 0.04 / 0.38 - 0.01, 0.04 / 0.38 + 0.01);
    }

    [Fact]
    public void TheSameSeedGivesTheSameDraws()
    {
        float[] logits = LogProbs(0.25, 0.25, 0.25, 0.25);
        int[] Draw(int seed)
        {
            var s = new Sampler(new SamplingOptions { Temperature = 1f, TopP = 1f, Seed = seed });
            return Enumerable.Range(0, 64).Select(_ => s.Sample((float[])logits.Clone(), [])).ToArray();
        }
        Assert.Equal(Draw(42), Draw(42));
        Assert.NotEqual(Draw(42), Draw(43));
    }

    [Fact]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits()
    {
        var sampler = new Sampler(SamplingOptions.Greedy with { RepetitionPenalty = 2f });
        float[] logits = [4f, -2f, 3f];
        sampler.Sample(logits, [0, 1, 0]);
        Assert.Equal([2f, -4f, 3f], logits);
    }

    [Fact]
    public void FrequencyAndPresencePenaltiesSubtractPerOccurrenceAndOnce()
    {
        var sampler = new Sampler(SamplingOptions.Greedy with { FrequencyPenalty = 0.5f, PresencePenalty = 0.25f });
        float[] logits = [1f, 1f, 1f];
        sampler.Sample(logits, [0, 0, 0, 2]);
        Assert.Equal([1f - 1.5f - 0.25f, 1f, 1f - 0.5f - 0.25f], logits);
    }

    [Fact]
    public void OutOfRangeSettingsAreRejectedWithTheirName()
    {
        var ex = Assert.Throws<RetortException>(() => new Sampler(new SamplingOptions { TopP = 1.5f }));
        Assert.Contains("top-p", ex.Message);
        Assert.Throws<RetortException>(() => new Sampler(new SamplingOptions { Temperature = -1f }));
    }
}
