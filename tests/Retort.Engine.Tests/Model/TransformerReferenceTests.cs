using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Sampling;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>
/// Holds the forward pass to Hugging Face transformers' float32 logits for the fixture models,
/// from every file format the fixtures ship.
/// </summary>
public sealed class TransformerReferenceTests
{
    public static TheoryData<string, string, double> Sources => new()
    {
        // Float32 weights against transformers on the same f32 weights: only float32 summation order differs.
        { "qwen2-micro", "gguf/qwen2-micro-f32.gguf", 1e-4 },
        { "qwen2-micro", "hf", 1e-4 },
        { "qwen2-tiny", "gguf/qwen2-tiny-f32.gguf", 1e-4 },
        { "qwen2-tiny", "hf", 1e-4 },
        // Rounded weights against the f32 model: the gap is the weights' own rounding error carried through
        // two layers of a random model whose large norms amplify it. f16 keeps 11 significant bits (relative
        // error ≤ 2^-12 per weight), bf16 keeps 8 (≤ 2^-9) and q8_0 keeps 8 bits per 32-weight block (≤ half a
        // step of max|w|/127, i.e. up to 2^-8 of the block's largest weight). Measured here: f16 ≤ 4.4e-3,
        // bf16 ≤ 5.4e-2, q8_0 ≤ 1.5e-1 on logits that spread over about ±3. The bounds are about twice that, so
        // a wrong dequantization (a swapped nibble, a lost scale, a wrong exponent: errors of order 1) fails.
        { "qwen2-micro", "gguf/qwen2-micro-f16.gguf", 1e-2 },
        { "qwen2-micro", "gguf/qwen2-micro-bf16.gguf", 0.1 },
        { "qwen2-micro", "hf-bf16", 0.1 },
        { "qwen2-micro", "gguf/qwen2-micro-q8_0.gguf", 0.3 },
        { "qwen2-tiny", "gguf/qwen2-tiny-f16.gguf", 1e-2 },
        { "qwen2-tiny", "gguf/qwen2-tiny-bf16.gguf", 0.1 },
        { "qwen2-tiny", "hf-bf16", 0.1 },
        { "qwen2-tiny", "gguf/qwen2-tiny-q8_0.gguf", 0.3 },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void LogitsOfEveryPositionMatchTransformers(string model, string source, double tolerance)
    {
        using var loaded = LoadedModel.Load(Fixtures.Path(model, source));
        AssertLogits(ReferenceLogits.TransformersF32(model), loaded.Transformer, source, tolerance);
    }

    [Theory]
    [InlineData("qwen2-micro", "gguf/qwen2-micro-f32.gguf")]
    [InlineData("qwen2-micro", "hf")]
    [InlineData("qwen2-tiny", "gguf/qwen2-tiny-f32.gguf")]
    [InlineData("qwen2-tiny", "hf")]
    public void GreedyContinuationEqualsTransformers(string model, string source)
    {
        using var loaded = LoadedModel.Load(Fixtures.Path(model, source));
        AssertGreedy(ReferenceLogits.TransformersF32(model), loaded);
    }

    /// <summary>
    /// The shared fixture's logits come from a model round-tripped through bf16 (see Reference/README.md).
    /// The bf16 files hold exactly those weights; with the RoPE frequencies rounded the same way, Retort
    /// reproduces that reference to 1e-4 on every position and its greedy continuations exactly.
    /// (The bf16 GGUFs cannot: llama.cpp keeps norms and biases in f32 there, so they are not the same weights.)
    /// </summary>
    [Theory]
    [InlineData("qwen2-micro", "hf-bf16")]
    [InlineData("qwen2-tiny", "hf-bf16")]
    public void Bf16ModelsReproduceTheSharedFixtureReference(string model, string source)
    {
        var reference = ReferenceLogits.SharedFixture(model);
        using var loaded = LoadedModel.Load(Fixtures.Path(model, source));
        using var transformer = new Transformer(loaded.Config with { RopeFrequenciesRoundedToBf16 = true }, loaded.Weights);
        AssertLogits(reference, transformer, source, 1e-4);
        for (int p = 0; p < reference.Prompts.Length; p++)
        {
            var cache = transformer.CreateCache(64);
            var tokens = new List<int>();
            float[] logits = transformer.Forward(reference.Prompts[p], cache);
            for (int i = 0; i < reference.Greedy[p].Length; i++)
            {
                int next = Sampler.ArgMax(logits);
                tokens.Add(next);
                logits = transformer.Forward([next], cache);
            }
            Assert.Equal(reference.Greedy[p], tokens);
        }
    }

    [Fact]
    public void WithoutRoundedFrequenciesTheSharedFixtureIsOutOfReach()
    {
        // Guards the explanation above: the rounding is what closes the gap, not a loose tolerance.
        var reference = ReferenceLogits.SharedFixture("qwen2-tiny");
        using var loaded = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "hf-bf16"));
        float[] logits = loaded.Transformer.Forward(reference.Prompts[2], loaded.Transformer.CreateCache(64), allLogits: true);
        double worst = logits.Select((v, i) => Math.Abs(v - reference.Logits[2][i])).Max();
        Assert.True(worst > 1e-3, $"max difference {worst}");
    }

    private static void AssertLogits(ReferenceLogits reference, Transformer transformer, string source, double tolerance)
    {
        Assert.Equal(reference.VocabSize, transformer.Config.VocabSize);
        for (int p = 0; p < reference.Prompts.Length; p++)
        {
            var cache = transformer.CreateCache(64);
            float[] logits = transformer.Forward(reference.Prompts[p], cache, allLogits: true);
            Assert.Equal(reference.Logits[p].Length, logits.Length);
            double worst = 0;
            int worstAt = -1;
            for (int i = 0; i < logits.Length; i++)
            {
                double d = Math.Abs(logits[i] - reference.Logits[p][i]);
                if (d > worst) (worst, worstAt) = (d, i);
            }
            Assert.True(worst <= tolerance,
                $"{source} prompt {p}: max |Δlogit| = {worst:E3} at position {worstAt / reference.VocabSize}, " +
                $"token {worstAt % reference.VocabSize} (tolerance {tolerance:E1})");
        }
    }

    private static void AssertGreedy(ReferenceLogits reference, LoadedModel loaded)
    {
        for (int p = 0; p < reference.Prompts.Length; p++)
        {
            var generator = new Generator(loaded, 128);
            var options = SamplingOptions.Greedy with { MaxTokens = reference.Greedy[p].Length, IgnoreEos = true };
            var result = generator.Generate(reference.Prompts[p], options);
            Assert.Equal(reference.Greedy[p], result.Tokens);
        }
    }

    [Theory]
    [InlineData("qwen2-tiny", "gguf/qwen2-tiny-f32.gguf")]
    [InlineData("qwen2-tiny", "gguf/qwen2-tiny-q8_0.gguf")]
    [InlineData("qwen2-micro", "hf-bf16")]
    public void IncrementalDecodeEqualsFullRecomputation(string model, string source)
    {
        var reference = ReferenceLogits.TransformersF32(model);
        using var loaded = LoadedModel.Load(Fixtures.Path(model, source));
        int[] prompt = reference.Prompts[2];
        int vocab = loaded.Config.VocabSize;

        float[] full = loaded.Transformer.Forward(prompt, loaded.Transformer.CreateCache(64), allLogits: true);

        // One token at a time through the cache, and in two uneven batches: every position must agree.
        var cache = loaded.Transformer.CreateCache(64);
        for (int i = 0; i < prompt.Length; i++)
        {
            float[] step = loaded.Transformer.Forward(prompt.AsSpan(i, 1), cache);
            AssertClose(full.AsSpan(i * vocab, vocab), step, 1e-5, $"token-by-token position {i}");
        }
        var split = loaded.Transformer.CreateCache(64);
        loaded.Transformer.Forward(prompt.AsSpan(0, 5), split);
        float[] rest = loaded.Transformer.Forward(prompt.AsSpan(5), split, allLogits: true);
        AssertClose(full.AsSpan(5 * vocab), rest, 1e-5, "batched after a cached prefix");
    }

    [Fact]
    public void CacheTruncationRecomputesTheSameLogits()
    {
        var reference = ReferenceLogits.TransformersF32("qwen2-tiny");
        using var loaded = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"));
        int[] prompt = reference.Prompts[2];
        var cache = loaded.Transformer.CreateCache(64);
        float[] first = loaded.Transformer.Forward(prompt, cache);
        cache.Truncate(3);
        float[] again = loaded.Transformer.Forward(prompt.AsSpan(3), cache);
        AssertClose(first, again, 1e-5, "after truncating to 3 positions");
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"{what}: element {i} expected {expected[i]} found {actual[i]}");
    }
}
