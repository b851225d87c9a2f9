using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>Decoding a token (forward pass and sampling) allocates no managed memory once warmed up.</summary>
public sealed class SteadyStateAllocationTests
{
    [Theory]
    [InlineData("gguf/qwen2-tiny-q8_0.gguf")]
    [InlineData("gguf/qwen2-tiny-f16.gguf")]
    public void DecodingATokenAllocatesNothing(string source)
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", source));
        var transformer = model.Transformer;
        var cache = transformer.CreateCache(256);
        var sampler = new Sampler(new SamplingOptions { Temperature = 0.8f, TopP = 0.9f, TopK = 40, MinP = 0.01f,
            RepetitionPenalty = 1.1f, Seed = 1 });
        int[] history = new int[256];
        int[] token = [ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[0][0]];
        int count = 0;

        void Step()
        {
            Span<float> logits = transformer.ForwardInPlace(token, cache);
            history[count++] = token[0];
            token[0] = sampler.Sample(logits, history.AsSpan(0, count));
        }

        for (int i = 0; i < 16; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 64; i++) Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated over 64 decode steps");
    }

    [Fact]
    public void ABatchedDecodeStepAllocatesNothing()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf/qwen2-tiny-q8_0.gguf"));
        var transformer = model.Transformer;
        const int batch = 4;
        var caches = Enumerable.Range(0, batch).Select(_ => transformer.CreateCache(256)).ToArray();
        var samplers = Enumerable.Range(0, batch).Select(i => new Sampler(new SamplingOptions { Temperature = 0.8f, Seed = i })).ToArray();
        int[] tokens = Enumerable.Range(0, batch).Select(i => ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[2][i]).ToArray();
        int vocab = transformer.Config.VocabSize;
        // Sequences at different positions: each gets a prompt of its own length first.
        for (int i = 0; i < batch; i++) transformer.ForwardInPlace(tokens.AsSpan(0, i + 1), caches[i]);

        void Step()
        {
            Span<float> logits = transformer.DecodeBatchInPlace(tokens, caches);
            for (int i = 0; i < batch; i++) tokens[i] = samplers[i].Sample(logits.Slice(i * vocab, vocab), tokens.AsSpan(i, 1));
        }

        for (int i = 0; i < 16; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 64; i++) Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated over 64 batched decode steps");
    }
}
