using Retort.Engine.Model;

namespace Retort.Engine.Synthesis;

/// <summary>
/// The shape of a model to synthesize: its hyperparameters plus what <see cref="ModelConfig"/> does not
/// carry (Q/K/V biases, a tied output head) and the llama.cpp pre-tokenizer name.
/// </summary>
public sealed record SynthPreset(string Name, ModelConfig Config, bool QkvBias, bool TiedEmbeddings, string PreTokenizer)
{
    public static IReadOnlyList<SynthPreset> All { get; } =
    [
        Qwen2("r1-distill-qwen-1.5b", 1536, 28, 12, 2, 8960, 151936, 10000f, 131072, tied: false, pre: "deepseek-r1-qwen"),
        Qwen2("qwen2.5-0.5b", 896, 24, 14, 2, 4864, 151936, 1_000_000f, 32768, tied: true, pre: "qwen2"),
        Qwen2("r1-distill-qwen-7b", 3584, 28, 28, 4, 18944, 152064, 10000f, 131072, tied: false, pre: "deepseek-r1-qwen"),
        new("r1-distill-llama-8b", new ModelConfig
        {
            Architecture = "llama", HiddenSize = 4096, LayerCount = 32, HeadCount = 32, KvHeadCount = 8, HeadDim = 128,
            FeedForwardSize = 14336, VocabSize = 128256, RmsNormEps = 1e-5f, RopeTheta = 500000f,
            RopeLayout = RopeLayout.Interleaved, ContextLength = 131072,
        }, QkvBias: false, TiedEmbeddings: false, PreTokenizer: "llama-bpe"),
    ];

    public static SynthPreset Find(string name) =>
        All.FirstOrDefault(p => p.Name == name)
        ?? throw new RetortException($"unknown preset '{name}' (expected one of: {string.Join(", ", All.Select(p => p.Name))})");

    private static SynthPreset Qwen2(string name, int hidden, int layers, int heads, int kvHeads, int ff, int vocab,
        float theta, int context, bool tied, string pre) =>
        new(name, new ModelConfig
        {
            Architecture = "qwen2", HiddenSize = hidden, LayerCount = layers, HeadCount = heads, KvHeadCount = kvHeads,
            HeadDim = hidden / heads, FeedForwardSize = ff, VocabSize = vocab, RmsNormEps = 1e-6f, RopeTheta = theta,
            RopeLayout = RopeLayout.NeoX, ContextLength = context,
        }, QkvBias: true, TiedEmbeddings: tied, PreTokenizer: pre);
}
