using Retort.Engine.Formats.Gguf;
using Retort.Engine.Synthesis;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Formats;

/// <summary>What <see cref="SyntheticModel"/> writes against what llama.cpp's converter wrote for the same HF folder.</summary>
public sealed class SyntheticModelTests
{
    [Fact]
    public void TokenizerMetadataAndShapesMatchLlamaCppsConversionOfTheSameFolder()
    {
        using var dir = new TempDir();
        string hf = Fixtures.Path("qwen2-micro", "hf");
        string path = dir.File("micro.gguf");
        SyntheticModel.Write(SyntheticModel.FromHfConfig(Path.Combine(hf, "config.json")), "f32", hf, path, 1);
        using var ours = GgufFile.Open(path);
        using var theirs = GgufFile.Open(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));

        foreach (string key in new[]
                 {
                     "general.architecture", "qwen2.block_count", "qwen2.context_length", "qwen2.embedding_length",
                     "qwen2.feed_forward_length", "qwen2.attention.head_count", "qwen2.attention.head_count_kv",
                     "qwen2.attention.layer_norm_rms_epsilon", "general.file_type", "tokenizer.ggml.model",
                     "tokenizer.ggml.pre", "tokenizer.ggml.merges",
                     "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id",
                 })
            Assert.True(theirs.Metadata[key].Equals(ours.Metadata[key]), $"{key}: llama.cpp {theirs.Metadata[key]}, synth {ours.Metadata[key]}");

        // One known difference: the folder's tokenizer files stop at id 463, but the transformers tokenizer
        // class llama.cpp's converter loaded added its default "<|endoftext|>" (a Qwen2Tokenizer default)
        // at id 464; synth reads only the files, so that id is padding there.
        string[] theirTokens = theirs.GetStringArray("tokenizer.ggml.tokens")!, ourTokens = ours.GetStringArray("tokenizer.ggml.tokens")!;
        long[] theirTypes = theirs.GetIntegerArray("tokenizer.ggml.token_type")!, ourTypes = ours.GetIntegerArray("tokenizer.ggml.token_type")!;
        Assert.Equal(theirTokens.Length, ourTokens.Length);
        var differing = Enumerable.Range(0, theirTokens.Length)
            .Where(i => theirTokens[i] != ourTokens[i] || theirTypes[i] != ourTypes[i]).ToArray();
        Assert.Equal([464], differing);
        Assert.Equal(("<|endoftext|>", 3L), (theirTokens[464], theirTypes[464]));
        Assert.Equal(("[PAD464]", 5L), (ourTokens[464], ourTypes[464]));

        // Same tensors; the order is not compared, since llama.cpp's follows the safetensors files' key order.
        Assert.Equal(theirs.TensorList.Select(t => t.Name).Order(StringComparer.Ordinal), ours.TensorList.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in theirs.TensorList)
        {
            Assert.Equal(t.Shape, ours.Tensors[t.Name].Shape);
            Assert.Equal(t.Type, ours.Tensors[t.Name].Type);
        }
    }
}
