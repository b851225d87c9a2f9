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

    [Theory]
    [InlineData(nameof(SamplingOptions.Temperature), float.NaN, "temperature must be in [0, 5]")]
    [InlineData(nameof(SamplingOptions.Temperature), float.PositiveInfinity, "temperature must be in [0, 5]")]
    [InlineData(nameof(SamplingOptions.Temperature), 1000f, "found 1000")]
    [InlineData(nameof(SamplingOptions.Temperature), 5.01f, "[0, 5]")]
    [InlineData(nameof(SamplingOptions.Temperature), -0.01f, "[0, 5]")]
    [InlineData(nameof(SamplingOptions.TopP), 0f, "top-p must be in (0, 1]")]
    [InlineData(nameof(SamplingOptions.TopP), float.NaN, "top-p")]
    [InlineData(nameof(SamplingOptions.MinP), 1.5f, "min-p must be in [0, 1]")]
    [InlineData(nameof(SamplingOptions.MinP), float.NaN, "min-p")]
    [InlineData(nameof(SamplingOptions.RepetitionPenalty), 0f, "[0.1, 10]")]
    [InlineData(nameof(SamplingOptions.RepetitionPenalty), 1e-30f, "[0.1, 10]")]
    [InlineData(nameof(SamplingOptions.RepetitionPenalty), float.PositiveInfinity, "[0.1, 10]")]
    [InlineData(nameof(SamplingOptions.FrequencyPenalty), float.NaN, "frequency penalty must be in [-2, 2]")]
    [InlineData(nameof(SamplingOptions.PresencePenalty), -2.5f, "presence penalty must be in [-2, 2]")]
    public void Every_float_setting_refuses_nan_infinity_and_values_out_of_its_range(string setting, float value, string expected)
    {
        var o = new SamplingOptions();
        o = setting switch
        {
            nameof(SamplingOptions.Temperature) => o with { Temperature = value },
            nameof(SamplingOptions.TopP) => o with { TopP = value },
            nameof(SamplingOptions.MinP) => o with { MinP = value },
            nameof(SamplingOptions.RepetitionPenalty) => o with { RepetitionPenalty = value },
            nameof(SamplingOptions.FrequencyPenalty) => o with { FrequencyPenalty = value },
            _ => o with { PresencePenalty = value },
        };
        var ex = Assert.Throws<RetortException>(() => o.Validate());
        Assert.Contains(expected, ex.Message);
        Assert.False(o.TryValidate(null, out string? found, out _));
        Assert.Equal(setting, found);
    }

    [Fact]
    public void Integer_settings_and_stop_strings_are_bounded()
    {
        Assert.Contains("top-k must be ≥ 0", Assert.Throws<RetortException>(() => new SamplingOptions { TopK = -1 }.Validate()).Message);
        Assert.Contains("max tokens must be at least 1, found 0", Assert.Throws<RetortException>(() => new SamplingOptions { MaxTokens = 0 }.Validate()).Message);
        var many = Enumerable.Range(0, SamplingOptions.MaxStopStrings + 1).Select(i => i.ToString()).ToArray();
        Assert.Contains("at most 16", Assert.Throws<RetortException>(() => new SamplingOptions { StopStrings = many }.Validate()).Message);
        string[] longOne = [new string('x', SamplingOptions.MaxStopStringLength + 1)];
        Assert.Contains("at most 256", Assert.Throws<RetortException>(() => new SamplingOptions { StopStrings = longOne }.Validate()).Message);
        // The edges are inside.
        new SamplingOptions { Temperature = SamplingOptions.MaxTemperature, TopP = 1, MinP = 1, RepetitionPenalty = 10, FrequencyPenalty = -2,
            PresencePenalty = 2, MaxTokens = 1, TopK = 0, Seed = int.MinValue, StopStrings = many[..16] }.Validate();
        new SamplingOptions { Temperature = 0, RepetitionPenalty = 0.1f, StopStrings = [new string('x', 256)] }.Validate();
    }

    [Fact]
    public void The_message_uses_the_callers_name_for_the_setting()
    {
        var options = new SamplingOptions { TopP = 2 };
        var ex = Assert.Throws<RetortException>(() => options.Validate(setting => setting == nameof(SamplingOptions.TopP) ? "--top-p" : setting));
        Assert.Equal("--top-p must be in (0, 1], found 2", ex.Message);
    }

    [Fact]
    public void A_tiny_temperature_is_near_greedy_and_never_nan()
    {
        // 1/T overflows float for T this small; scaled in double, the draw is still the best token.
        var sampler = new Sampler(new SamplingOptions { Temperature = 1e-40f, TopP = 1f, Seed = 9 });
        for (int i = 0; i < 50; i++) Assert.Equal(2, sampler.Sample(new float[] { 1f, -3e38f, 2f, 1.5f, float.NegativeInfinity }, []));
        var hot = new Sampler(new SamplingOptions { Temperature = SamplingOptions.MaxTemperature, TopP = 1f, Seed = 9 });
        var seen = new HashSet<int>();
        for (int i = 0; i < 400; i++) seen.Add(hot.Sample(new float[] { 1f, 0.5f, 2f, 1.5f, float.NegativeInfinity }, []));
        Assert.Equal([0, 1, 2, 3], seen.Order());
    }
}
