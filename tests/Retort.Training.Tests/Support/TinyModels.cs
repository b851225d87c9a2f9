using Retort.Engine.Model;
using Retort.Training.Model;

namespace Retort.Training.Tests.Support;

/// <summary>Small random students (grouped attention, biases, NeoX RoPE) for tests that need no fixture.</summary>
internal static class TinyModels
{
    public static ModelConfig Config(string architecture = "qwen2", int vocab = 40, int layers = 2) => new()
    {
        Architecture = architecture,
        HiddenSize = 32,
        LayerCount = layers,
        HeadCount = 4,
        KvHeadCount = 2,
        HeadDim = 8,
        FeedForwardSize = 48,
        VocabSize = vocab,
        RmsNormEps = 1e-6f,
        RopeTheta = 10000f,
        RopeLayout = RopeLayout.NeoX,
        ContextLength = 256,
    };

    /// <summary>A random model whose weights are large enough (std 0.3) for attention patterns and norms to matter.</summary>
    public static StudentModel Create(int seed = 7, int threads = 2, bool tied = false, string architecture = "qwen2")
    {
        var model = StudentModel.Initialize(Config(architecture), tied, seed, std: 0.3, threads: threads);
        var random = new Random(seed + 1);
        // Non-trivial norms and biases, as the fixtures have.
        foreach (var p in model.Parameters)
            if (p.Name.EndsWith("norm.weight", StringComparison.Ordinal) || p.Name.EndsWith(".bias", StringComparison.Ordinal))
                for (int i = 0; i < p.Length; i++) p.Value[i] += (float)(random.NextDouble() - 0.5) * 0.5f;
        return model;
    }
}
