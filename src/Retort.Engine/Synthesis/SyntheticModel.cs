using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Retort.Engine.Formats.Gguf;
using Retort.Engine.Model;
using Retort.Engine.Quantization;
using Retort.Engine.Tensors;

namespace Retort.Engine.Synthesis;

/// <summary>
/// Writes a GGUF with random weights in exactly a model's shape, tensor names and metadata as
/// llama.cpp writes them, so speed can be measured without downloading a model: random weights cost
/// exactly what trained ones cost. Tensors are generated and quantized while the file is written.
/// </summary>
public static class SyntheticModel
{
    /// <summary>The 2-D weight type and llama.cpp's general.file_type (LLAMA_FTYPE_*) for a --type name.</summary>
    public static (GgmlType Type, int FileType) ParseType(string name) => name.ToLowerInvariant() switch
    {
        "f32" => (GgmlType.F32, 0),
        "f16" => (GgmlType.F16, 1),
        "q4_0" => (GgmlType.Q4_0, 2),
        "q8_0" => (GgmlType.Q8_0, 7),
        "bf16" => (GgmlType.BF16, 32),
        "q4_1" => (GgmlType.Q4_1, 3),
        "q5_0" => (GgmlType.Q5_0, 8),
        "q5_1" => (GgmlType.Q5_1, 9),
        "q4_k_m" => (GgmlType.Q4_K, 15),
        "q5_k_m" => (GgmlType.Q5_K, 17),
        "q6_k" => (GgmlType.Q6_K, 18),
        _ => throw new RetortException($"unknown type '{name}' (expected one of: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k)"),
    };

    /// <summary>A preset shape from a Hugging Face config.json (plus tie_word_embeddings and attention_bias).</summary>
    public static SynthPreset FromHfConfig(string configPath)
    {
        if (!File.Exists(configPath)) throw new RetortException($"config not found: '{configPath}'");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
            var json = doc.RootElement;
            var config = ModelConfig.FromHfConfig(json, configPath);
            bool llama = config.Architecture == "llama";
            // Qwen2 always has Q/K/V biases; Llama has them only with attention_bias.
            bool bias = !llama || (json.TryGetProperty("attention_bias", out var ab) && ab.ValueKind == JsonValueKind.True);
            bool tied = json.TryGetProperty("tie_word_embeddings", out var tw) && tw.ValueKind == JsonValueKind.True;
            // GGUF Llamas rotate adjacent pairs (llama.cpp's converter permutes Q/K rows).
            if (llama) config = config with { RopeLayout = RopeLayout.Interleaved };
            string pre = llama ? "llama-bpe" : "qwen2";
            return new SynthPreset(Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(configPath))) ?? "synthetic",
                config, bias, tied, pre);
        }
        catch (JsonException ex)
        {
            throw new RetortException($"{configPath}: not valid JSON ({ex.Message})");
        }
    }

    /// <summary>Writes the model to <paramref name="outPath"/> (atomically); returns the number of tensors.</summary>
    public static int Write(SynthPreset preset, string typeName, string tokenizerDir, string outPath, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var (type, fileType) = ParseType(typeName);
        if (!Directory.Exists(tokenizerDir))
            throw new RetortException($"tokenizer folder not found: '{tokenizerDir}'");
        var c = preset.Config;
        // K-quant rows that are not a multiple of 256 fall back to 32-element types, as in llama.cpp.
        int block = type is GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K ? 32 : GgmlTypeInfo.BlockSize(type);
        foreach (int rowLength in new[] { c.HiddenSize, c.HeadCount * c.HeadDim, c.FeedForwardSize })
            if (rowLength % block != 0)
                throw new RetortException($"type {typeName} needs row lengths that are multiples of {block}, but the model has {rowLength}");

        var vocab = HfVocabulary.Read(tokenizerDir, c.VocabSize);
        string pre = preset.PreTokenizer == "qwen2" && vocab.HasDeepSeekMarkers ? "deepseek-r1-qwen" : preset.PreTokenizer;

        var w = new GgufWriter();
        WriteMetadata(w, c, $"{preset.Name} (synthetic, random weights)", fileType, vocab, pre);

        int hidden = c.HiddenSize, q = c.HeadCount * c.HeadDim, kv = c.KvHeadCount * c.HeadDim, ff = c.FeedForwardSize;
        int index = 0;
        void Matrix(string name, int rowLength, int rows, GgmlType t)
        {
            t = TensorType(t, name, c.LayerCount, rowLength, preset.TiedEmbeddings);
            w.AddTensor(name, t, [rowLength, rows], RandomTensor(t, rowLength, rows, seed, index++, 0.02f, 0f));
        }
        void Vector(string name, int length, float mean) =>
            w.AddTensor(name, GgmlType.F32, [length], RandomTensor(GgmlType.F32, length, 1, seed, index++, 0.02f, mean));

        // Embedding, each block, then the norm and head; readers look tensors up by name (llama.cpp's
        // converter follows the safetensors key order, which a synthetic model does not have).
        Matrix("token_embd.weight", hidden, c.VocabSize, type);
        for (int l = 0; l < c.LayerCount; l++)
        {
            string p = $"blk.{l}.";
            Vector(p + "attn_norm.weight", hidden, 1f);
            Matrix(p + "attn_q.weight", hidden, q, type);
            if (preset.QkvBias) Vector(p + "attn_q.bias", q, 0f);
            Matrix(p + "attn_k.weight", hidden, kv, type);
            if (preset.QkvBias) Vector(p + "attn_k.bias", kv, 0f);
            Matrix(p + "attn_v.weight", hidden, kv, type);
            if (preset.QkvBias) Vector(p + "attn_v.bias", kv, 0f);
            Matrix(p + "attn_output.weight", q, hidden, type);
            Vector(p + "ffn_norm.weight", hidden, 1f);
            Matrix(p + "ffn_gate.weight", hidden, ff, type);
            Matrix(p + "ffn_up.weight", hidden, ff, type);
            Matrix(p + "ffn_down.weight", ff, hidden, type);
        }
        Vector("output_norm.weight", hidden, 1f);
        if (!preset.TiedEmbeddings) Matrix("output.weight", hidden, c.VocabSize, type);

        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir != null && !Directory.Exists(dir)) throw new RetortException($"output folder not found: '{dir}'");
        w.Write(outPath);
        return w.TensorCount;
    }

    /// <summary>
    /// The model and tokenizer metadata llama.cpp's converter writes for a Llama-family model
    /// (shared by synth and convert).
    /// </summary>
    internal static void WriteMetadata(GgufWriter w, ModelConfig c, string name, int fileType, HfVocabulary vocab, string pre)
    {
        string arch = c.Architecture;
        w.SetMetadata("general.architecture", GgufValue.Of(arch));
        w.SetMetadata("general.name", GgufValue.Of(name));
        w.SetMetadata($"{arch}.block_count", GgufValue.Of((uint)c.LayerCount));
        w.SetMetadata($"{arch}.context_length", GgufValue.Of((uint)c.ContextLength));
        w.SetMetadata($"{arch}.embedding_length", GgufValue.Of((uint)c.HiddenSize));
        w.SetMetadata($"{arch}.feed_forward_length", GgufValue.Of((uint)c.FeedForwardSize));
        w.SetMetadata($"{arch}.attention.head_count", GgufValue.Of((uint)c.HeadCount));
        w.SetMetadata($"{arch}.attention.head_count_kv", GgufValue.Of((uint)c.KvHeadCount));
        if (c.HeadDim != c.HiddenSize / c.HeadCount)
        {
            w.SetMetadata($"{arch}.attention.key_length", GgufValue.Of((uint)c.HeadDim));
            w.SetMetadata($"{arch}.attention.value_length", GgufValue.Of((uint)c.HeadDim));
        }
        w.SetMetadata($"{arch}.rope.freq_base", GgufValue.Of(c.RopeTheta));
        w.SetMetadata($"{arch}.attention.layer_norm_rms_epsilon", GgufValue.Of(c.RmsNormEps));
        if (arch == "llama")
        {
            w.SetMetadata("llama.vocab_size", GgufValue.Of((uint)c.VocabSize));
            w.SetMetadata("llama.rope.dimension_count", GgufValue.Of((uint)c.HeadDim));
        }
        w.SetMetadata("general.file_type", GgufValue.Of((uint)fileType));
        w.SetMetadata("tokenizer.ggml.model", GgufValue.Of("gpt2"));
        w.SetMetadata("tokenizer.ggml.pre", GgufValue.Of(pre));
        w.SetMetadata("tokenizer.ggml.tokens", GgufValue.Of(vocab.Tokens));
        w.SetMetadata("tokenizer.ggml.token_type", GgufValue.Of(vocab.TokenTypes));
        w.SetMetadata("tokenizer.ggml.merges", GgufValue.Of(vocab.Merges));
        if (vocab.BosId is int bos) w.SetMetadata("tokenizer.ggml.bos_token_id", GgufValue.Of((uint)bos));
        if (vocab.EosId is int eos) w.SetMetadata("tokenizer.ggml.eos_token_id", GgufValue.Of((uint)eos));
        if (vocab.PadId is int pad) w.SetMetadata("tokenizer.ggml.padding_token_id", GgufValue.Of((uint)pad));
        w.SetMetadata("tokenizer.ggml.add_bos_token", GgufValue.Of(vocab.AddBos));
        if (vocab.ChatTemplate != null) w.SetMetadata("tokenizer.chat_template", GgufValue.Of(vocab.ChatTemplate));

    }

    /// <summary>
    /// The type a weight matrix gets in a file of the given main type: the Q4_K_M / Q5_K_M mixes, Q6_K with
    /// llama.cpp's Q8_0 fallback for rows that are not a multiple of 256, the main type otherwise.
    /// </summary>
    internal static GgmlType TensorType(GgmlType main, string name, int layers, int rowLength, bool tied) => main switch
    {
        GgmlType.Q4_K or GgmlType.Q5_K => KMix(main, name, layers, rowLength, tied),
        GgmlType.Q6_K => rowLength % 256 == 0 ? GgmlType.Q6_K : GgmlType.Q8_0,
        _ => main,
    };

    /// <summary>
    /// llama.cpp's Q4_K_M mix (llama_tensor_get_type without an importance matrix): Q4_K, but Q6_K for the
    /// output head (the embedding when it is tied) and for attn_v and ffn_down in the layers
    /// use_more_bits picks; rows that are not a multiple of 256 fall back to Q5_0 / Q8_0.
    /// </summary>
    /// <summary>The Q4_K_M or Q5_K_M mix around base type Q4_K or Q5_K (llama.cpp treats both alike; Q5_K falls back to Q5_1).</summary>
    private static GgmlType KMix(GgmlType baseType, string name, int layers, int rowLength, bool tied)
    {
        static bool UseMoreBits(int i, int n) => i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
        GgmlType t = baseType;
        if (name == "output.weight" || (tied && name == "token_embd.weight")) t = GgmlType.Q6_K;
        else if (name.StartsWith("blk.", StringComparison.Ordinal)
                 && (name.EndsWith(".attn_v.weight", StringComparison.Ordinal) || name.EndsWith(".ffn_down.weight", StringComparison.Ordinal))
                 && UseMoreBits(int.Parse(name.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture), layers))
            t = GgmlType.Q6_K;
        if (rowLength % 256 != 0) t = t switch { GgmlType.Q6_K => GgmlType.Q8_0, GgmlType.Q5_K => GgmlType.Q5_1, _ => GgmlType.Q5_0 };
        return t;
    }

    /// <summary>
    /// Streams <paramref name="rows"/> random rows (mean + sd·noise) quantized to <paramref name="type"/>.
    /// Each row has its own generator seeded from (seed, tensor, row), so the bytes do not depend on
    /// how many threads make them.
    /// </summary>
    private static Action<Stream> RandomTensor(GgmlType type, int rowLength, int rows, ulong seed, int tensor, float sd, float mean) =>
        stream =>
        {
            int rowBytes = (int)((long)rowLength / GgmlTypeInfo.BlockSize(type) * GgmlTypeInfo.BlockBytes(type));
            int slabRows = Math.Max(1, Math.Min(rows, (16 << 20) / rowBytes));
            byte[] slab = ArrayPool<byte>.Shared.Rent(slabRows * rowBytes);
            try
            {
                for (int first = 0; first < rows; first += slabRows)
                {
                    int count = Math.Min(slabRows, rows - first);
                    int start = first;
                    Parallel.For(0, count, () => new float[rowLength], (r, _, values) =>
                    {
                        var rng = new SplitMix(seed ^ ((ulong)tensor << 40) ^ (ulong)(start + r) * 0x9E3779B97F4A7C15UL);
                        for (int i = 0; i < values.Length; i++) values[i] = mean + sd * rng.NextNormalish();
                        Quantize.Row(type, values, slab.AsSpan(r * rowBytes, rowBytes));
                        return values;
                    }, _ => { });
                    stream.Write(slab, 0, count * rowBytes);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(slab);
            }
        };

    /// <summary>A tiny fast generator; the sum of four uniforms gives a bell-shaped value of variance 1.</summary>
    [StructLayout(LayoutKind.Auto)]
    private struct SplitMix(ulong state)
    {
        private ulong _state = state;

        private ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public float NextNormalish()
        {
            ulong a = Next(), b = Next();
            const float scale = 1f / (1 << 16);
            float sum = (a & 0xFFFF) * scale + ((a >> 32) & 0xFFFF) * scale + (b & 0xFFFF) * scale + ((b >> 32) & 0xFFFF) * scale;
            // Four U(0,1) have mean 2 and variance 1/3.
            return (sum - 2f) * 1.7320508f;
        }
    }
}
