using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>
/// A batched decode step (one token for each of several sequences, each with its own cache and
/// position) gives every sequence the logits it gets alone.
/// </summary>
public sealed class BatchedDecodeTests
{
    /// <summary>
    /// Each row passes through the same kernels with its own activations (quantized per row for q8_0), so
    /// only summation order could differ between a batch and a single row; a wrong cache, position or
    /// row would move logits by whole units.
    /// </summary>
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("gguf/qwen2-tiny-q8_0.gguf", 0)]
    [InlineData("gguf/qwen2-tiny-f32.gguf", 0)]
    [InlineData("gguf/qwen2-tiny-f32.gguf", -1)]
    public void BatchedLogitsEqualEachSequenceAlone(string source, int threads)
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", source), threads: threads);
        var t = model.Transformer;
        int vocab = t.Config.VocabSize;
        var reference = ReferenceLogits.TransformersF32("qwen2-tiny");
        // Three prompts cut to different lengths, so the sequences sit at different positions.
        int[][] prompts = reference.Prompts.Select((p, i) => p[..Math.Min(p.Length, 3 + 4 * i)]).ToArray();
        int[][] continuations = reference.Greedy;
        Assert.Equal(3, prompts.Select(p => p.Length).Distinct().Count());

        int n = prompts.Length;
        var batchCaches = prompts.Select(_ => t.CreateCache(64)).ToArray();
        var aloneCaches = prompts.Select(_ => t.CreateCache(64)).ToArray();
        for (int s = 0; s < n; s++)
        {
            // Everything but the last prompt token goes in as a prompt; the batch starts from there
            // (a one-token prompt starts at position 0).
            if (prompts[s].Length == 1) continue;
            t.ForwardInPlace(prompts[s].AsSpan(0, prompts[s].Length - 1), batchCaches[s]);
            t.ForwardInPlace(prompts[s].AsSpan(0, prompts[s].Length - 1), aloneCaches[s]);
        }

        const int steps = 6;
        for (int step = 0; step < steps; step++)
        {
            // The last sequence leaves after two steps: the batch shrinks as a server's does.
            int active = step < 2 ? n : n - 1;
            int[] tokens = Enumerable.Range(0, active)
                .Select(s => step == 0 ? prompts[s][^1] : continuations[s][step - 1]).ToArray();
            float[] batched = t.DecodeBatchInPlace(tokens, batchCaches.AsSpan(0, active)).ToArray();
            Assert.Equal(active * vocab, batched.Length);
            for (int s = 0; s < active; s++)
            {
                float[] alone = t.ForwardInPlace([tokens[s]], aloneCaches[s]).ToArray();
                double gap = 0;
                for (int j = 0; j < vocab; j++) gap = Math.Max(gap, Math.Abs(alone[j] - batched[s * vocab + j]));
                Assert.True(gap <= Tolerance, $"step {step}, sequence {s}: max gap {gap}");
                Assert.Equal(aloneCaches[s].Length, batchCaches[s].Length);
            }
        }
        Assert.Equal(prompts[0].Length + steps - 1, batchCaches[0].Length);
        Assert.Equal(prompts[2].Length + 1, batchCaches[2].Length);
    }

    [Fact]
    public void ABatchRefusesASharedCacheAndAFullOne()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"));
        var t = model.Transformer;
        var cache = t.CreateCache(8);
        Assert.Throws<ArgumentException>(() => t.DecodeBatchInPlace([1, 2], [cache, cache]));
        var full = t.CreateCache(2);
        t.ForwardInPlace([1, 2], full);
        var ex = Assert.Throws<RetortException>(() => t.DecodeBatchInPlace([1, 2], [cache, full]));
        Assert.Contains("context is full", ex.Message);
        Assert.Equal(0, cache.Length);
    }
}
