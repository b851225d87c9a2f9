using Retort.Engine.Formats.Gguf;
using Retort.Engine.Loading;
using Retort.Engine.Tensors;
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

    /// <summary>
    /// Types without a llama.cpp fixture: every matrix gets the expected type (Q6_K falls back to Q8_0
    /// where rows are not a multiple of 256, as llama.cpp does), and the model's logits stay near the
    /// f32 folder's: this random-weight model amplifies weight rounding (logits move by up to ~1.9 at
    /// 4 bits), so the check is the cosine of all logits with the f32 ones, which a wrong block layout
    /// drops to about 0.
    /// </summary>
    [Theory]
    [InlineData("q4_1", 0.9)]
    [InlineData("q5_0", 0.97)]
    [InlineData("q5_1", 0.97)]
    [InlineData("q6_k", 0.99)]
    [InlineData("q5_k_m", 0.97)]
    public void ConvertsToTheOtherTypesAndStaysNearF32(string type, double minCosine)
    {
        string output = Path.Combine(_dir, $"qwen2-tiny-{type}.gguf");
        var (code, _, err) = CliRunner.Run("convert", Fixtures.Path("qwen2-tiny", "hf"), output, "--type", type);
        Assert.True(code == 0, err);

        using (var file = GgufFile.Open(output))
        {
            foreach (var tensor in file.Tensors.Values.Where(t => t.Shape.Length == 2))
            {
                if (type == "q5_k_m")
                {
                    // The K mix: Q6_K for the head and some attn_v/ffn_down, Q5_K elsewhere, Q5_1/Q8_0 for short rows.
                    Assert.True(tensor.Type is GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q5_1 or GgmlType.Q8_0, $"{tensor.Name}: {tensor.Type}");
                    if (tensor.Name == "output.weight") Assert.Equal(tensor.RowLength % 256 == 0 ? GgmlType.Q6_K : GgmlType.Q8_0, tensor.Type);
                    continue;
                }
                string expected = type == "q6_k" && tensor.RowLength % 256 != 0 ? "Q8_0" : type.ToUpperInvariant();
                Assert.True(expected == tensor.Type.ToString(), $"{tensor.Name}: {tensor.Type}, expected {expected}");
            }
        }

        int[] prompt = [460, 458, 432, 407, 220, 18, 20, 424, 11];
        float[] Logits(string path)
        {
            using var m = LoadedModel.Load(path);
            return m.Transformer.Forward(prompt, m.Transformer.CreateCache(32), allLogits: true);
        }
        float[] exact = Logits(Fixtures.Path("qwen2-tiny", "hf")), quantized = Logits(output);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < exact.Length; i++)
        {
            dot += exact[i] * quantized[i];
            na += exact[i] * exact[i];
            nb += quantized[i] * quantized[i];
        }
        double cosine = dot / Math.Sqrt(na * nb);
        Assert.True(cosine > minCosine, $"cosine {cosine}");
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
