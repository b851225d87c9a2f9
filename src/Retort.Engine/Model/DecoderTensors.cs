using System.Globalization;
using Retort.Engine.Tensors;

namespace Retort.Engine.Model;

/// <summary>
/// The weights of a Llama-family decoder (Qwen2, Llama) under their GGUF names (HfTensorNames maps
/// Hugging Face's onto them), built from a prefix in this one place, with the shape each must have
/// and whether the architecture needs it; <see cref="Check"/> holds a store to the table before the
/// model allocates or runs anything.
/// </summary>
internal static class DecoderTensors
{
    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";

    public const string AttentionNorm = "attn_norm";
    public const string Query = "attn_q";
    public const string Key = "attn_k";
    public const string Value = "attn_v";
    public const string AttentionOutput = "attn_output";
    public const string FeedForwardNorm = "ffn_norm";
    public const string Gate = "ffn_gate";
    public const string Up = "ffn_up";
    public const string Down = "ffn_down";

    private const string LayerPrefix = "blk.";

    /// <summary>"blk.{layer}.{module}.weight" (or ".bias").</summary>
    public static string Weight(int layer, string module) => $"{LayerPrefix}{layer}.{module}.weight";

    public static string Bias(int layer, string module) => $"{LayerPrefix}{layer}.{module}.bias";

    /// <summary>What the decoder does with a tensor of the table.</summary>
    internal enum Use
    {
        /// <summary>Must be present.</summary>
        Required,
        /// <summary>Used when present (GGUF files, which do not say whether biases exist).</summary>
        Optional,
        /// <summary>Must be absent: the configuration says the model has no such weight.</summary>
        Forbidden,
        /// <summary>Not read even when present (lm_head of a tied model, as transformers does).</summary>
        Ignored,
    }

    /// <summary>One row of the table: the GGUF name, the shape in ggml order, the use, and why.</summary>
    internal sealed record Row(string Name, long[] Shape, Use Use, string Why);

    /// <summary>Every weight the decoder of <paramref name="c"/> may read.</summary>
    public static IEnumerable<Row> For(ModelConfig c)
    {
        long hidden = c.HiddenSize, q = (long)c.HeadCount * c.HeadDim, kv = (long)c.KvHeadCount * c.HeadDim, ff = c.FeedForwardSize;
        bool qwen = c.Architecture == "qwen2";
        (Use use, string why) attentionBias = c.AttentionBias switch
        {
            true => (Use.Required, qwen ? "Qwen2 has Q/K/V biases" : "config.json says attention_bias"),
            // Biases a file carries are used (with their shapes checked): Retort's own students
            // and conversions write them, and dropping them would change those models' outputs.
            false or null => (Use.Optional, ""),
        };
        // transformers builds Qwen2's o_proj without a bias, but students trained here carry one.
        (Use use, string why) outputBias = qwen ? (Use.Optional, "") : attentionBias;

        yield return new Row(TokenEmbedding, [hidden, c.VocabSize], Use.Required, "the token embedding");
        for (int l = 0; l < c.LayerCount; l++)
        {
            yield return new Row(Weight(l, AttentionNorm), [hidden], Use.Required, "");
            yield return new Row(Weight(l, Query), [hidden, q], Use.Required, "");
            yield return new Row(Weight(l, Key), [hidden, kv], Use.Required, "");
            yield return new Row(Weight(l, Value), [hidden, kv], Use.Required, "");
            yield return new Row(Weight(l, AttentionOutput), [q, hidden], Use.Required, "");
            yield return new Row(Bias(l, Query), [q], attentionBias.use, attentionBias.why);
            yield return new Row(Bias(l, Key), [kv], attentionBias.use, attentionBias.why);
            yield return new Row(Bias(l, Value), [kv], attentionBias.use, attentionBias.why);
            yield return new Row(Bias(l, AttentionOutput), [hidden], outputBias.use, outputBias.why);
            yield return new Row(Weight(l, FeedForwardNorm), [hidden], Use.Required, "");
            yield return new Row(Weight(l, Gate), [hidden, ff], Use.Required, "");
            yield return new Row(Weight(l, Up), [hidden, ff], Use.Required, "");
            yield return new Row(Weight(l, Down), [ff, hidden], Use.Required, "");
            yield return new Row(Bias(l, Gate), [ff], Use.Optional, "");
            yield return new Row(Bias(l, Up), [ff], Use.Optional, "");
            yield return new Row(Bias(l, Down), [hidden], Use.Optional, "");
        }
        yield return new Row(OutputNorm, [hidden], Use.Required, "");
        yield return c.TieWordEmbeddings switch
        {
            true => new Row(Output, [hidden, c.VocabSize], Use.Ignored, "config.json ties it to the embedding"),
            false => new Row(Output, [hidden, c.VocabSize], Use.Required, "config.json says tie_word_embeddings false"),
            // A GGUF without its own head ties it to the embedding, as llama.cpp does.
            null => new Row(Output, [hidden, c.VocabSize], Use.Optional, ""),
        };
    }

    /// <summary>
    /// Checks that <paramref name="store"/> holds every tensor the decoder needs with the shape and a
    /// type it computes with, none it must not have, and no layer beyond the configured count; returns
    /// the tensors to read, by GGUF name. Errors name the file, the tensor as the file calls it, and
    /// the expected against the found shape.
    /// </summary>
    public static Dictionary<string, TensorData> Check(ModelConfig config, ITensorStore store)
    {
        var locator = store as ITensorLocator;
        string Where(string name) => locator?.Locate(name) ?? $"model weights: tensor '{name}'";
        string Shape(IReadOnlyList<long> shape) => locator?.FormatShape(shape) ?? $"[{string.Join(", ", shape)}]";
        string Because(Row row) => row.Why.Length > 0 ? $" ({row.Why})" : "";

        var tensors = store.Tensors;
        var result = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var row in For(config))
        {
            bool present = tensors.TryGetValue(row.Name, out var tensor);
            if (!present)
            {
                if (row.Use == Use.Required)
                    throw new RetortException(
                        $"{Where(row.Name)}: expected a tensor of shape {Shape(row.Shape)}{Because(row)} for {config.Architecture}, found no such tensor");
                continue;
            }
            if (row.Use == Use.Forbidden)
                throw new RetortException($"{Where(row.Name)}: expected no such tensor{Because(row)}, found one of shape {Shape(tensor!.Shape)}");
            if (row.Use == Use.Ignored) continue;
            if (!GgmlTypeInfo.IsSupported(tensor!.Type))
                throw new RetortException($"{Where(row.Name)} has type {tensor.Type}, which Retort cannot compute with " +
                                          "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
            if (!tensor.Shape.SequenceEqual(row.Shape))
                throw new RetortException($"{Where(row.Name)}: expected shape {Shape(row.Shape)}, found {Shape(tensor.Shape)}");
            result.Add(row.Name, tensor);
        }

        // Weights of a layer past the configured count mean the configuration describes another model.
        foreach (string name in tensors.Keys)
        {
            if (LayerOf(name) is int layer && layer >= config.LayerCount)
                throw new RetortException(
                    $"{Where(name)}: expected layers 0..{config.LayerCount - 1} (the configured layer count is {config.LayerCount}), found a tensor of layer {layer}");
        }
        return result;
    }

    /// <summary>The layer of a "blk.{n}.…" name, or null.</summary>
    private static int? LayerOf(string name)
    {
        if (!name.StartsWith(LayerPrefix, StringComparison.Ordinal)) return null;
        int dot = name.IndexOf('.', LayerPrefix.Length);
        if (dot <= LayerPrefix.Length) return null;
        return int.TryParse(name.AsSpan(LayerPrefix.Length, dot - LayerPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int layer)
            ? layer
            : int.MaxValue;
    }
}
