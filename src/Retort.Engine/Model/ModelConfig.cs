using System.Globalization;
using System.Text.Json;
using Retort.Engine.Formats.Gguf;
using Retort.Engine.IO;
using Retort.Engine.Tensors;
using Retort.Engine.Tokenization;

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

    /// <summary>
    /// Whether Q/K/V (and, for Llama, the attention output) projections carry biases: Qwen2 always
    /// has Q/K/V ones; a Llama has them when config.json says attention_bias. Null (a GGUF file, which
    /// does not say) takes whatever biases the weights hold, as llama.cpp does.
    /// </summary>
    internal bool? AttentionBias { get; init; }

    /// <summary>
    /// config.json's tie_word_embeddings: true reuses the token embedding as the output head, false
    /// requires lm_head.weight. Null (a GGUF file) ties the head when the file has no output.weight.
    /// </summary>
    internal bool? TieWordEmbeddings { get; init; }

    internal static readonly string[] SupportedArchitectures = ["qwen2", "llama"];

    // Limits at the edge: generous beside real models (hidden 16k, MLP 53k, 126 layers, 128 heads,
    // head size 256, 10M context), small enough that no product of two of them overflows what an
    // array or an int offset holds before a check sees it.
    internal const int MaxWidth = 1 << 20;
    internal const int MaxLayers = 1 << 12;
    internal const int MaxHeads = 1 << 12;
    internal const int MaxHeadDim = 1 << 12;
    internal const int MaxContextLength = 1 << 24;

    /// <summary>The context assumed when a file does not give one.</summary>
    internal const int DefaultContextLength = 4096;

    /// <summary>Reads the hyperparameters llama.cpp writes under "{general.architecture}.*".</summary>
    public static ModelConfig FromGguf(GgufFile gguf)
    {
        string arch = gguf.GetString("general.architecture")
            ?? throw new RetortException($"'{gguf.Path}': metadata key 'general.architecture' is missing");
        if (!SupportedArchitectures.Contains(arch))
            throw new RetortException(
                $"'{gguf.Path}': architecture '{arch}' is not supported (expected one of: {string.Join(", ", SupportedArchitectures)})");

        RetortException Fail(string key, string expected, string found) =>
            new($"'{gguf.Path}': metadata key '{arch}.{key}': expected {expected}, found {MessageText.OneLine(found)}");

        int Int(string key, int max, int? absent = null)
        {
            long? v = gguf.GetInteger($"{arch}.{key}");
            if (v is null)
                return absent ?? throw Fail(key, $"an integer in 1..{max}", "nothing (the key is missing)");
            if (v < 1 || v > max) throw Fail(key, $"an integer in 1..{max}", v.Value.ToString(CultureInfo.InvariantCulture));
            return (int)v.Value;
        }

        float Float(string key, double absent, double exclusiveMin, double max, string expected)
        {
            double v = gguf.GetFloat($"{arch}.{key}") ?? absent;
            // Held as float32: a double that overflows it is as unusable as NaN.
            float f = (float)v;
            if (!float.IsFinite(f) || f <= exclusiveMin || f > max) throw Fail(key, expected, v.ToString("R", CultureInfo.InvariantCulture));
            return f;
        }

        int hidden = Int("embedding_length", MaxWidth);
        int heads = Int("attention.head_count", MaxHeads);
        int kvHeads = Int("attention.head_count_kv", MaxHeads, absent: heads);
        int? givenHeadDim = gguf.GetInteger($"{arch}.attention.key_length") is null ? null : Int("attention.key_length", MaxHeadDim);
        int headDim = AttentionShape(hidden, heads, kvHeads, givenHeadDim, (field, message) => field switch
        {
            ShapeField.Heads => Fail("attention.head_count", message, heads.ToString(CultureInfo.InvariantCulture)),
            ShapeField.KvHeads => Fail("attention.head_count_kv", message, kvHeads.ToString(CultureInfo.InvariantCulture)),
            _ => Fail(givenHeadDim is null ? "attention.head_count" : "attention.key_length", message,
                givenHeadDim is null ? $"{heads} heads of {hidden / heads}" : givenHeadDim.Value.ToString(CultureInfo.InvariantCulture)),
        });
        if (gguf.GetInteger($"{arch}.attention.value_length") is not null && Int("attention.value_length", MaxHeadDim) != headDim)
            throw Fail("attention.value_length", $"the key length {headDim} (Retort needs equal key and value sizes)",
                gguf.GetInteger($"{arch}.attention.value_length")!.Value.ToString(CultureInfo.InvariantCulture));
        if (gguf.GetInteger($"{arch}.rope.dimension_count") is long ropeDims && ropeDims != headDim)
            throw Fail("rope.dimension_count", $"the head size {headDim} (partial rotary embeddings are not supported)",
                ropeDims.ToString(CultureInfo.InvariantCulture));
        if (gguf.GetString($"{arch}.rope.scaling.type") is { } scaling && scaling != "none")
            throw Fail("rope.scaling.type", "none (rope scaling other than Llama 3's rope_freqs is not supported)", $"'{scaling}'");

        int vocab;
        if (gguf.GetInteger($"{arch}.vocab_size") is not null) vocab = Int("vocab_size", Tokenizer.MaxVocabularySize);
        else if (gguf.Tensors.TryGetValue("token_embd.weight", out var emb))
        {
            if (emb.RowCount > Tokenizer.MaxVocabularySize)
                throw new RetortException(
                    $"'{gguf.Path}': tensor 'token_embd.weight': expected at most {Tokenizer.MaxVocabularySize} rows (one per token), found {emb.RowCount}");
            vocab = (int)emb.RowCount;
        }
        else throw new RetortException($"'{gguf.Path}': cannot tell the vocabulary size (no '{arch}.vocab_size' and no token_embd.weight)");

        float[]? factors = null;
        if (gguf.Tensors.TryGetValue("rope_freqs.weight", out var rf))
        {
            // Checked before it sizes an array: the shape is whatever the file says.
            if (!GgmlTypeInfo.IsSupported(rf.Type))
                throw new RetortException($"'{gguf.Path}': tensor 'rope_freqs.weight' has type {rf.Type}, which Retort cannot read: expected F32");
            if (rf.Shape.Length != 1 || rf.Shape[0] != headDim / 2)
                throw new RetortException(
                    $"'{gguf.Path}': tensor 'rope_freqs.weight': expected shape [{headDim / 2}] (one factor per rotary pair), found [{string.Join(", ", rf.Shape)}]");
            factors = new float[headDim / 2];
            Quantization.Dequantize.Row(rf.Type, rf.AllBytes(), factors);
            CheckFactors(factors, i => new RetortException(
                $"'{gguf.Path}': tensor 'rope_freqs.weight': expected finite positive factors, found {factors[i].ToString("R", CultureInfo.InvariantCulture)} at {i}"));
        }

        var config = new ModelConfig
        {
            Architecture = arch,
            HiddenSize = hidden,
            LayerCount = Int("block_count", MaxLayers),
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadDim = headDim,
            FeedForwardSize = Int("feed_forward_length", MaxWidth),
            VocabSize = vocab,
            RmsNormEps = Float("attention.layer_norm_rms_epsilon", 1e-6, 0, Math.BitDecrement(1.0), "a finite number in (0, 1)"),
            RopeTheta = Float("rope.freq_base", 10000.0, 1, double.MaxValue, "a finite number greater than 1 (the RoPE base)"),
            // llama.cpp's converter permutes Llama's Q/K rows so that GGUF Llamas rotate adjacent pairs.
            RopeLayout = arch == "llama" ? RopeLayout.Interleaved : RopeLayout.NeoX,
            ContextLength = Int("context_length", MaxContextLength, absent: DefaultContextLength),
            RopeFrequencyFactors = factors,
            AttentionBias = arch == "qwen2" ? true : null,
        };
        return config;
    }

    /// <summary>Reads a Hugging Face config.json (Qwen2ForCausalLM, LlamaForCausalLM); <paramref name="where"/> is its path.</summary>
    public static ModelConfig FromHfConfig(JsonElement json, string where)
    {
        var root = new JsonAt(json, where, "").RequireObject();
        var modelTypeAt = root["model_type"];
        string modelType = modelTypeAt.String();
        if (!SupportedArchitectures.Contains(modelType))
            throw modelTypeAt.Problem(
                $"model_type '{modelType}' is not supported (expected one of: {string.Join(", ", SupportedArchitectures)})");
        if (root["hidden_act"].OptionalString() is { } act && act != "silu")
            throw root["hidden_act"].Problem($"activation '{act}' is not supported: expected silu (SwiGLU)");
        if (root["mlp_bias"].Bool())
            throw root["mlp_bias"].Problem("MLP biases (mlp_bias true) are not supported");

        int hidden = root["hidden_size"].Int(1, MaxWidth);
        var headsAt = root["num_attention_heads"];
        int heads = headsAt.Int(1, MaxHeads);
        var kvAt = root["num_key_value_heads"];
        int kvHeads = kvAt.OptionalInt(1, MaxHeads) ?? heads;
        var headDimAt = root["head_dim"];
        int? givenHeadDim = headDimAt.OptionalInt(1, MaxHeadDim);
        int headDim = AttentionShape(hidden, heads, kvHeads, givenHeadDim, (field, message) => field switch
        {
            ShapeField.Heads => headsAt.Problem($"expected {message}, found {heads}"),
            ShapeField.KvHeads => kvAt.Problem($"expected {message}, found {kvHeads}"),
            _ when givenHeadDim is null => headsAt.Problem($"expected {message}, found {heads} heads of {hidden / heads}"),
            _ => headDimAt.Problem($"expected {message}, found {givenHeadDim}"),
        });

        // transformers 5 moved rope_theta into rope_parameters; older configs keep it at the top level.
        JsonAt ropeParams = !root["rope_parameters"].IsAbsent ? root["rope_parameters"].RequireObject()
            : !root["rope_scaling"].IsAbsent ? root["rope_scaling"].RequireObject() : root["rope_parameters"];
        JsonAt thetaAt = !ropeParams["rope_theta"].IsAbsent ? ropeParams["rope_theta"] : root["rope_theta"];
        float theta = FiniteFloat(thetaAt, 10000.0, 1, double.MaxValue, "a finite number greater than 1 (the RoPE base)");

        float[]? factors = null;
        var ropeTypeAt = !ropeParams["rope_type"].IsAbsent ? ropeParams["rope_type"] : ropeParams["type"];
        if (ropeTypeAt.OptionalString() is { } ropeType)
        {
            if (ropeType == "llama3")
            {
                const string positive = "a finite positive number";
                double factor = ropeParams["factor"].OptionalFiniteAbove(0, double.MaxValue, positive) ?? 8.0;
                double low = ropeParams["low_freq_factor"].OptionalFiniteAbove(0, double.MaxValue, positive) ?? 1.0;
                var highAt = ropeParams["high_freq_factor"];
                double high = highAt.OptionalFiniteAbove(low, double.MaxValue, $"a finite number above low_freq_factor {low}") ?? 4.0;
                if (high <= low) throw highAt.Error($"a finite number above low_freq_factor {low} (the default is 4)");
                double original = ropeParams["original_max_position_embeddings"].OptionalFiniteAbove(0, MaxContextLength, $"a number in (0, {MaxContextLength}]") ?? 8192.0;
                factors = Llama3RopeFactors(headDim, theta, factor, low, high, original);
                CheckFactors(factors, _ => ropeParams.Problem($"the llama3 rope parameters give a non-finite or non-positive frequency factor"));
            }
            else if (ropeType != "default")
                throw ropeTypeAt.Problem($"rope type '{ropeType}' is not supported (expected 'default' or 'llama3')");
        }

        bool qwen = modelType == "qwen2";
        var config = new ModelConfig
        {
            Architecture = modelType,
            HiddenSize = hidden,
            LayerCount = root["num_hidden_layers"].Int(1, MaxLayers),
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadDim = headDim,
            FeedForwardSize = root["intermediate_size"].Int(1, MaxWidth),
            VocabSize = root["vocab_size"].Int(1, Tokenizer.MaxVocabularySize),
            RmsNormEps = FiniteFloat(root["rms_norm_eps"], 1e-6, 0, Math.BitDecrement(1.0), "a finite number in (0, 1)"),
            RopeTheta = theta,
            RopeLayout = RopeLayout.NeoX,
            ContextLength = root["max_position_embeddings"].OptionalInt(1, MaxContextLength) ?? DefaultContextLength,
            RopeFrequencyFactors = factors,
            // Qwen2's attention always has Q/K/V biases; transformers' Llama has them only with attention_bias.
            AttentionBias = qwen || root["attention_bias"].Bool(),
            TieWordEmbeddings = root["tie_word_embeddings"].Bool(),
        };
        return config;
    }

    /// <summary>A number held as float32: finite there (1e39 is not), in (exclusiveMin, max]; absent gives the default.</summary>
    private static float FiniteFloat(JsonAt v, double absent, double exclusiveMin, double max, string expected)
    {
        double d = v.OptionalFiniteAbove(exclusiveMin, max, expected) ?? absent;
        float f = (float)d;
        if (!float.IsFinite(f) || f <= exclusiveMin) throw v.Error(expected + " that a float32 can hold");
        return f;
    }

    private enum ShapeField
    {
        Heads,
        KvHeads,
        HeadDim,
    }

    /// <summary>
    /// The head size, given or hidden / heads, after the checks attention and RoPE need: heads divide
    /// the hidden size when no head size is given, KV heads divide the heads, the head size is even.
    /// </summary>
    private static int AttentionShape(int hidden, int heads, int kvHeads, int? givenHeadDim,
        Func<ShapeField, string, RetortException> fail)
    {
        if (givenHeadDim is null && hidden % heads != 0)
            throw fail(ShapeField.Heads, $"a divisor of the hidden size {hidden} (no head size is given)");
        if (kvHeads > heads || heads % kvHeads != 0)
            throw fail(ShapeField.KvHeads, $"a divisor of the {heads} attention heads");
        int headDim = givenHeadDim ?? hidden / heads;
        if (headDim % 2 != 0 || headDim > MaxHeadDim)
            throw fail(ShapeField.HeadDim, $"an even head size of at most {MaxHeadDim} (rotary embeddings turn pairs)");
        return headDim;
    }

    private static void CheckFactors(float[] factors, Func<int, RetortException> fail)
    {
        for (int i = 0; i < factors.Length; i++)
            if (!float.IsFinite(factors[i]) || factors[i] <= 0) throw fail(i);
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
}
