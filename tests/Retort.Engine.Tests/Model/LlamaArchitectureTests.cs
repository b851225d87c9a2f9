using Retort.Engine.Formats.Gguf;
using Retort.Engine.Loading;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>
/// The Llama path, without a Llama fixture: Qwen2 and Llama compute the same function given the same
/// weights (Llama merely has no biases by default), so the fixture Qwen2 model rewritten as a Llama must
/// give the same logits. For GGUF this also exercises the layout llama.cpp's converter uses for Llama:
/// Q/K rows permuted so that RoPE rotates adjacent pairs instead of halves.
/// </summary>
public sealed class LlamaArchitectureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("retort-llama-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[] Logits(string path, int[] prompt)
    {
        using var model = LoadedModel.Load(path);
        return model.Transformer.Forward(prompt, model.Transformer.CreateCache(64), allLogits: true);
    }

    /// <summary>Row r = (head h, pair j, half s) of HF's order moves to (h, 2j + s), as convert_hf_to_gguf permutes Llama Q/K.</summary>
    private static byte[] PermuteRows(ReadOnlySpan<byte> data, int rows, int rowBytes, int heads)
    {
        var result = new byte[data.Length];
        int perHead = rows / heads, half = perHead / 2;
        for (int h = 0; h < heads; h++)
            for (int s = 0; s < 2; s++)
                for (int j = 0; j < half; j++)
                {
                    int from = h * perHead + s * half + j, to = h * perHead + 2 * j + s;
                    data.Slice(from * rowBytes, rowBytes).CopyTo(result.AsSpan(to * rowBytes, rowBytes));
                }
        return result;
    }

    [Fact]
    public void AQwen2GgufRewrittenAsLlamaGivesTheSameLogits()
    {
        string source = Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf");
        string target = Path.Combine(_dir, "tiny-llama.gguf");
        using (var gguf = GgufFile.Open(source))
        {
            int heads = (int)gguf.GetInteger("qwen2.attention.head_count")!;
            int kvHeads = (int)gguf.GetInteger("qwen2.attention.head_count_kv")!;
            var writer = new GgufWriter();
            foreach (string key in gguf.MetadataKeys)
            {
                var value = key == "general.architecture" ? GgufValue.Of("llama") : gguf.Metadata[key];
                writer.SetMetadata(key.StartsWith("qwen2.", StringComparison.Ordinal) ? "llama." + key["qwen2.".Length..] : key, value);
            }
            foreach (var t in gguf.TensorList)
            {
                bool q = t.Name.EndsWith("attn_q.weight") || t.Name.EndsWith("attn_q.bias");
                bool k = t.Name.EndsWith("attn_k.weight") || t.Name.EndsWith("attn_k.bias");
                if (!q && !k)
                {
                    writer.AddTensor(t);
                    continue;
                }
                int rows = t.Shape.Length == 2 ? (int)t.RowCount : (int)t.RowLength;
                int rowBytes = (int)(t.ByteLength / rows);
                writer.AddTensor(t.Name, t.Type, t.Shape, PermuteRows(t.AllBytes(), rows, rowBytes, q ? heads : kvHeads));
            }
            writer.Write(target);
        }

        int[] prompt = ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[2];
        float[] qwen = Logits(source, prompt), llama = Logits(target, prompt);
        using (var model = LoadedModel.Load(target))
            Assert.Equal("llama", model.Config.Architecture);
        for (int i = 0; i < qwen.Length; i++) Assert.True(Math.Abs(qwen[i] - llama[i]) < 1e-4, $"logit {i}: {qwen[i]} vs {llama[i]}");
    }

    [Fact]
    public void AQwen2FolderRewrittenAsLlamaGivesTheSameLogits()
    {
        string source = Fixtures.Path("qwen2-tiny", "hf");
        foreach (string f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
        // transformers' Llama has Q/K/V biases only with attention_bias, which also gives o_proj one:
        // Qwen2 has none there, which is a zero bias.
        string config = Path.Combine(_dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config)
            .Replace("\"qwen2\"", "\"llama\"").Replace("Qwen2ForCausalLM", "LlamaForCausalLM")
            .Replace("\"model_type\"", "\"attention_bias\": true, \"model_type\""));
        var builder = new SafeTensorsBuilder();
        using (var weights = Retort.Engine.Formats.SafeTensors.SafeTensorsFile.Open(Path.Combine(source, "model.safetensors")))
        {
            foreach (var t in weights.TensorList)
            {
                builder.Add(t.Name, "F32", [.. t.Shape.Reverse()], t.AllBytes().ToArray());
                if (t.Name.EndsWith(".self_attn.o_proj.weight", StringComparison.Ordinal))
                    builder.Add(t.Name.Replace(".weight", ".bias"), "F32", [t.RowCount], new byte[t.RowCount * sizeof(float)]);
            }
        }
        File.WriteAllBytes(Path.Combine(_dir, "model.safetensors"), builder.ToArray());

        int[] prompt = ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[1];
        float[] qwen = Logits(source, prompt), llama = Logits(_dir, prompt);
        for (int i = 0; i < qwen.Length; i++) Assert.True(Math.Abs(qwen[i] - llama[i]) < 1e-5, $"logit {i}");
    }

    [Fact]
    public void Llama3RopeScalingFollowsTheLlama31Formula()
    {
        // Llama 3.1: factor 8, low 1, high 4, original context 8192, θ = 500000, head dim 128.
        float[] f = global::Retort.Engine.Model.ModelConfig.Llama3RopeFactors(128, 500000, 8, 1, 4, 8192);
        Assert.Equal(64, f.Length);
        Assert.Equal(1f, f[0]);          // wavelength 2π: far below 8192/4, kept
        Assert.Equal(8f, f[63]);         // wavelength ≈ 2π·500000^(126/128) ≫ 8192, stretched by 8
        // In between, the factor rises monotonically from 1 to 8.
        for (int i = 1; i < 64; i++) Assert.True(f[i] >= f[i - 1]);
        Assert.Contains(f, x => x > 1f && x < 8f);
    }
}
