using System.Text.Json;
using Retort.Engine.Formats.Gguf;

namespace Retort.Engine.Model;

/// <summary>
/// The hyperparameters of a Llama-family decoder. Every number comes from the model file; nothing
/// is assumed about one particular shape.
/// </summary>
public sealed record ModelConfig
{
    public required string Architecture { get; init; }
    public required int HiddenSize { get; init; }
    public required int LayerCount { get; init; }
    public required int HeadCount { get; init; }
    public required int KvHeadCount { get; init; }
    public required int HeadDim { get; init; }
    public required int FeedForwardSize { get; init; }
    public required int VocabSize { get; init; }
    public required float RmsNormEps { get; init; }
    public required float RopeTheta { get; init; }
    public required RopeLayout RopeLayout { get; init; }

    /// <summary>The context length the model was trained for (a default for --ctx, not a hard limit).</summary>
    public required int ContextLength { get; init; }

    /// <summary>Per-frequency divisors (Llama 3.1 "llama3" rope scaling), one per rotary pair, or null.</summary>
    public float[]? RopeFrequencyFactors { get; init; }

    /// <summary>
    /// Rounds the RoPE inverse frequencies to bfloat16, as transformers' rotary buffer ends up after a
    /// model is cast to bf16 and back. Only the test that reproduces such a reference turns this on.
    /// </summary>
    internal bool RopeFrequenciesRoundedToBf16 { get; init; }

    internal static readonly string[] SupportedArchitectures = ["qwen2", "llama"];

    /// <summary>Reads the hyperparameters llama.cpp writes under "{general.architecture}.*".</summary>
    public static ModelConfig FromGguf(GgufFile gguf)
    {
        string arch = gguf.GetString("general.architecture")
            ?? throw new RetortException($"{gguf.Path}: metadata key 'general.architecture' is missing");
        if (!SupportedArchitectures.Contains(arch))
            throw new RetortException(
                $"{gguf.Path}: architecture '{arch}' is not supported (expected one of: {string.Join(", ", SupportedArchitectures)})");

        int Required(string key)
        {
            long v = gguf.GetInteger($"{arch}.{key}")
                ?? throw new RetortException($"{gguf.Path}: metadata key '{arch}.{key}' is missing");
            if (v <= 0 || v > int.MaxValue)
                throw new RetortException($"{gguf.Path}: metadata key '{arch}.{key}' must be a positive integer, found {v}");
            return (int)v;
        }

        int hidden = Required("embedding_length");
        int heads = Required("attention.head_count");
        int kvHeads = gguf.GetInteger($"{arch}.attention.head_count_kv") is long kv ? (int)kv : heads;
        int headDim = gguf.GetInteger($"{arch}.attention.key_length") is long kl ? (int)kl : hidden / heads;
        int vocab = gguf.GetInteger($"{arch}.vocab_size") is long vs
            ? (int)vs
            : gguf.Tensors.TryGetValue("token_embd.weight", out var emb) ? (int)emb.RowCount
            : throw new RetortException($"{gguf.Path}: cannot tell the vocabulary size (no '{arch}.vocab_size' and no token_embd.weight)");

        float[]? factors = null;
        if (gguf.Tensors.TryGetValue("rope_freqs.weight", out var rf))
        {
            factors = new float[rf.ElementCount];
            Quantization.Dequantize.Row(rf.Type, rf.AllBytes(), factors);
        }

        var config = new ModelConfig
        {
            Architecture = arch,
            HiddenSize = hidden,
            LayerCount = Required("block_count"),
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadDim = headDim,
            FeedForwardSize = Required("feed_forward_length"),
            VocabSize = vocab,
            RmsNormEps = (float)(gguf.GetFloat($"{arch}.attention.layer_norm_rms_epsilon") ?? 1e-6),
            RopeTheta = (float)(gguf.GetFloat($"{arch}.rope.freq_base") ?? 10000.0),
            // llama.cpp's converter permutes Llama's Q/K rows so that GGUF Llamas rotate adjacent pairs.
            RopeLayout = arch == "llama" ? RopeLayout.Interleaved : RopeLayout.NeoX,
            ContextLength = gguf.GetInteger($"{arch}.context_length") is long cl ? (int)Math.Min(cl, int.MaxValue) : 4096,
            RopeFrequencyFactors = factors,
        };
        config.Validate(gguf.Path);
        return config;
    }

    /// <summary>Reads a Hugging Face config.json (Qwen2ForCausalLM, LlamaForCausalLM).</summary>
    public static ModelConfig FromHfConfig(JsonElement json, string where)
    {
        string modelType = json.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String
            ? mt.GetString()!
            : throw new RetortException($"{where}: config.json has no 'model_type'");
        if (!SupportedArchitectures.Contains(modelType))
            throw new RetortException(
                $"{where}: model_type '{modelType}' is not supported (expected one of: {string.Join(", ", SupportedArchitectures)})");

        int Required(string key)
        {
            if (!json.TryGetProperty(key, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i) || i <= 0)
                throw new RetortException($"{where}: config.json needs a positive integer '{key}'");
            return i;
        }

        int? Optional(string key) =>
            json.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;

        double? OptionalDouble(JsonElement obj, string key) =>
            obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number
                ? v.GetDouble()
                : null;

        int hidden = Required("hidden_size");
        int heads = Required("num_attention_heads");
        int headDim = Optional("head_dim") ?? hidden / heads;

        // transformers 5 moved rope_theta into rope_parameters; older configs keep it at the top level.
        JsonElement ropeParams = json.TryGetProperty("rope_parameters", out var rp) ? rp
            : json.TryGetProperty("rope_scaling", out var rs) ? rs : default;
        double theta = OptionalDouble(ropeParams, "rope_theta") ?? OptionalDouble(json, "rope_theta") ?? 10000.0;

        float[]? factors = null;
        if (ropeParams.ValueKind == JsonValueKind.Object
            && (ropeParams.TryGetProperty("rope_type", out var rt) || ropeParams.TryGetProperty("type", out rt))
            && rt.ValueKind == JsonValueKind.String)
        {
            string ropeType = rt.GetString()!;
            if (ropeType == "llama3")
                factors = Llama3RopeFactors(headDim, theta,
                    OptionalDouble(ropeParams, "factor") ?? 8.0,
                    OptionalDouble(ropeParams, "low_freq_factor") ?? 1.0,
                    OptionalDouble(ropeParams, "high_freq_factor") ?? 4.0,
                    OptionalDouble(ropeParams, "original_max_position_embeddings") ?? 8192.0);
            else if (ropeType != "default")
                throw new RetortException($"{where}: rope type '{ropeType}' is not supported (expected 'default' or 'llama3')");
        }

        var config = new ModelConfig
        {
            Architecture = modelType,
            HiddenSize = hidden,
            LayerCount = Required("num_hidden_layers"),
            HeadCount = heads,
            KvHeadCount = Optional("num_key_value_heads") ?? heads,
            HeadDim = headDim,
            FeedForwardSize = Required("intermediate_size"),
            VocabSize = Required("vocab_size"),
            RmsNormEps = (float)(OptionalDouble(json, "rms_norm_eps") ?? 1e-6),
            RopeTheta = (float)theta,
            RopeLayout = RopeLayout.NeoX,
            ContextLength = Optional("max_position_embeddings") ?? 4096,
            RopeFrequencyFactors = factors,
        };
        config.Validate(where);
        return config;
    }

    /// <summary>
    /// Llama 3.1's frequency-dependent scaling, expressed (as llama.cpp stores it in rope_freqs) as a
    /// divisor per rotary frequency: long wavelengths are stretched by `factor`, short ones kept,
    /// the band between interpolated smoothly.
    /// </summary>
    internal static float[] Llama3RopeFactors(int headDim, double theta, double factor, double lowFreqFactor,
        double highFreqFactor, double originalContext)
    {
        var result = new float[headDim / 2];
        double lowWavelen = originalContext / lowFreqFactor;
        double highWavelen = originalContext / highFreqFactor;
        for (int i = 0; i < result.Length; i++)
        {
            double freq = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) result[i] = 1f;
            else if (wavelen > lowWavelen) result[i] = (float)factor;
            else
            {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                result[i] = (float)(1.0 / ((1 - smooth) / factor + smooth));
            }
        }
        return result;
    }

    private void Validate(string where)
    {
        if (HeadCount % KvHeadCount != 0)
            throw new RetortException($"{where}: {HeadCount} attention heads are not a multiple of {KvHeadCount} KV heads");
        if (HeadDim % 2 != 0)
            throw new RetortException($"{where}: head dimension {HeadDim} must be even for rotary embeddings");
        if (RopeFrequencyFactors != null && RopeFrequencyFactors.Length != HeadDim / 2)
            throw new RetortException(
                $"{where}: rope frequency factors have {RopeFrequencyFactors.Length} entries, expected {HeadDim / 2}");
    }
}
