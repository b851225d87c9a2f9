using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using Retort.Engine.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>
/// Holds the forward pass to Hugging Face transformers' float32 logits for the fixture models,
/// from every file format the fixtures ship.
/// </summary>
public sealed class TransformerReferenceTests
{
    public static TheoryData<string, string, double> Sources => new()
    {
        // Float32 weights: the only differences are summation order in float32, far below 1e-4.
        { "qwen2-micro", "gguf/qwen2-micro-f32.gguf", 1e-4 },
        { "qwen2-micro", "hf", 1e-4 },
        { "qwen2-tiny", "gguf/qwen2-tiny-f32.gguf", 1e-4 },
        { "qwen2-tiny", "hf", 1e-4 },
        // Rounded weights: the reference is the f32 model, so the gap is the weights' own rounding error
        // carried through two layers. bf16 keeps 8 significant bits (relative error up to 2^-9 per weight),
        // f16 keeps 11 (2^-12) and q8_0 keeps 8 bits per 32-weight block (error up to scale/2 per weight).
        // Each bound is a few times the error measured on these models and well below the spread of the
        // logits, so a wrong dequantization (a swapped nibble, a lost scale) still fails.
        { "qwen2-micro", "gguf/qwen2-micro-f16.gguf", 2e-3 },
        { "qwen2-micro", "gguf/qwen2-micro-bf16.gguf", 2e-2 },
        { "qwen2-micro", "hf-bf16", 2e-2 },
        { "qwen2-micro", "gguf/qwen2-micro-q8_0.gguf", 2e-2 },
        { "qwen2-tiny", "gguf/qwen2-tiny-f16.gguf", 2e-3 },
        { "qwen2-tiny", "gguf/qwen2-tiny-bf16.gguf", 2e-2 },
        { "qwen2-tiny", "hf-bf16", 2e-2 },
        { "qwen2-tiny", "gguf/qwen2-tiny-q8_0.gguf", 2e-2 },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void LogitsOfEveryPositionMatchTransformers(string model, string source, double tolerance)
    {
        var reference = ReferenceLogits.Load(model);
        using var loaded = LoadedModel.Load(Fixtures.Path(model, source));
        Assert.Equal(reference.VocabSize, loaded.Config.VocabSize);
        for (int p = 0; p < reference.Prompts.Length; p++)
        {
            var cache = loaded.Transformer.CreateCache(64);
            float[] logits = loaded.Transformer.Forward(reference.Prompts[p], cache, allLogits: true);
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

    [Theory]
    [InlineData("qwen2-micro", "gguf/qwen2-micro-f32.gguf")]
    [InlineData("qwen2-micro", "hf")]
    [InlineData("qwen2-tiny", "gguf/qwen2-tiny-f32.gguf")]
    [InlineData("qwen2-tiny", "hf")]
    public void GreedyContinuationEqualsTransformers(string model, string source)
    {
        var reference = ReferenceLogits.Load(model);
        using var loaded = LoadedModel.Load(Fixtures.Path(model, source));
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
        var reference = ReferenceLogits.Load(model);
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
        var reference = ReferenceLogits.Load("qwen2-tiny");
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
