using Retort.Engine.Formats.Gguf;
using Retort.Engine.Loading;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

public sealed class ConvertCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("retort-convert-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The fixtures' GGUFs were made by llama.cpp's converter from the same HF folders.</summary>
    [Theory]
    [InlineData("qwen2-micro", "f32")]
    [InlineData("qwen2-micro", "f16")]
    [InlineData("qwen2-micro", "bf16")]
    [InlineData("qwen2-micro", "q8_0")]
    [InlineData("qwen2-tiny", "f32")]
    [InlineData("qwen2-tiny", "q8_0")]
    public void HoldsTheSameTensorsAsLlamaCppsConversion(string model, string type)
    {
        string output = Path.Combine(_dir, $"{model}-{type}.gguf");
        var (code, _, err) = CliRunner.Run("convert", Fixtures.Path(model, "hf"), output, "--type", type);
        Assert.True(code == 0, err);

        using var ours = GgufFile.Open(output);
        using var theirs = GgufFile.Open(Fixtures.Path(model, "gguf", $"{model}-{type}.gguf"));
        GgufAssert.SameTensors(theirs, ours);
        foreach (string key in new[] { "general.architecture", "qwen2.block_count", "qwen2.embedding_length", "qwen2.feed_forward_length",
                     "qwen2.attention.head_count", "qwen2.attention.head_count_kv", "general.file_type", "tokenizer.ggml.model",
                     "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id" })
            Assert.True(theirs.Metadata[key].Equals(ours.Metadata[key]), $"{key}: {theirs.Metadata[key].Value} vs {ours.Metadata[key].Value}");
        Assert.Equal(theirs.GetFloat("qwen2.attention.layer_norm_rms_epsilon"), ours.GetFloat("qwen2.attention.layer_norm_rms_epsilon"));
        Assert.Equal(theirs.GetStringArray("tokenizer.ggml.merges"), ours.GetStringArray("tokenizer.ggml.merges"));
    }

    [Fact]
    public void ALlamaFolderConvertsWithPermutedQkAndGivesTheSameLogits()
    {
        string hf = Path.Combine(_dir, "llama-hf");
        Directory.CreateDirectory(hf);
        foreach (string f in Directory.GetFiles(Fixtures.Path("qwen2-tiny", "hf"))) File.Copy(f, Path.Combine(hf, Path.GetFileName(f)));
        string config = Path.Combine(hf, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"qwen2\"", "\"llama\"").Replace("Qwen2ForCausalLM", "LlamaForCausalLM"));
        string gguf = Path.Combine(_dir, "llama.gguf");
        var (code, _, err) = CliRunner.Run("convert", hf, gguf, "--type", "f32");
        Assert.True(code == 0, err);

        int[] prompt = [460, 458, 432, 407, 220, 18, 20, 424, 11];
        float[] Logits(string path)
        {
            using var m = LoadedModel.Load(path);
            return m.Transformer.Forward(prompt, m.Transformer.CreateCache(32), allLogits: true);
        }
        float[] fromFolder = Logits(hf), fromGguf = Logits(gguf);
        for (int i = 0; i < fromFolder.Length; i++) Assert.True(Math.Abs(fromFolder[i] - fromGguf[i]) < 1e-4, $"logit {i}");
        using var file = GgufFile.Open(gguf);
        Assert.Equal("llama-bpe", file.GetString("tokenizer.ggml.pre"));
    }

    [Fact]
    public void AFolderWithoutConfigIsAOneLineError()
    {
        var (code, _, err) = CliRunner.Run("convert", _dir, Path.Combine(_dir, "x.gguf"));
        Assert.Equal(1, code);
        Assert.Contains("config.json", err);
        Assert.Single(err.Trim().Split('\n'));
    }
}
