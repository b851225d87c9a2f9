using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Sampling;

/// <summary>
/// The sampler's vocabulary-sized arrays belong to the generator (a server's slot), not to each request:
/// a server that allocated them per request grew by 2.4 MB a request with the R1 vocabulary.
/// </summary>
public sealed class SamplingWorkspaceTests
{
    /// <summary>DeepSeek-R1-Distill-Qwen's vocabulary, the size the leak was measured at.</summary>
    private const int Vocabulary = 151936;

    private static float[] FlatLogits()
    {
        // Every token within the sampler's 30-nat head: the candidate array is filled to the whole vocabulary.
        var random = new Random(5);
        return Enumerable.Range(0, Vocabulary).Select(_ => (float)random.NextDouble()).ToArray();
    }

    private static long AllocatedBy(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_new_request_on_a_warm_workspace_allocates_no_vocabulary_sized_array()
    {
        float[] logits = FlatLogits();
        int[] history = [1, 2, 3, 1];
        var options = new SamplingOptions { Temperature = 0.8f, TopP = 0.95f, RepetitionPenalty = 1.1f, Seed = 1 };
        var workspace = new SamplingWorkspace();
        new Sampler(options, workspace).Sample((float[])logits.Clone(), history);
        var copies = Enumerable.Range(0, 8).Select(_ => (float[])logits.Clone()).ToArray();

        // Each "request" is a new sampler: only its own few objects are allocated, not the arrays.
        long perRequest = AllocatedBy(() =>
        {
            foreach (float[] copy in copies) new Sampler(options, workspace).Sample(copy, history);
        }) / copies.Length;
        Assert.True(perRequest < Vocabulary, $"{perRequest} bytes allocated per request: a vocabulary-sized array is back");

        // The measurement can see such an array: a sampler with buffers of its own allocates them.
        long ownBuffers = AllocatedBy(() => new Sampler(options).Sample((float[])logits.Clone(), history)) - Vocabulary * sizeof(float);
        Assert.True(ownBuffers >= Vocabulary * (8 + 8), $"only {ownBuffers} bytes for a sampler with its own buffers");
    }

    [Fact]
    public void A_generator_lends_one_workspace_to_every_generation()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"));
        var generator = new Generator(model, 128);
        var workspace = generator.SamplingWorkspace;
        var options = new SamplingOptions { Temperature = 0.9f, MaxTokens = 4, IgnoreEos = true, Seed = 3 };
        int[] prompt = model.Tokenizer.Encode("hello there", addSpecialTokens: true);
        generator.Generate(prompt, options);
        Assert.Equal(2, workspace.Allocations);
        for (int i = 0; i < 4; i++) generator.Generate(prompt, options with { Seed = i });
        Assert.Same(workspace, generator.SamplingWorkspace);
        Assert.Equal(2, workspace.Allocations);
    }
}
