using Retort.Engine.Formats.Gguf;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.Model;
using Retort.Engine.Quantization;
using Retort.Engine.Synthesis;
using Retort.Engine.Tensors;

namespace Retort.Engine.Conversion;

/// <summary>
/// Converts a Hugging Face folder (qwen2, llama) to GGUF the way llama.cpp's convert_hf_to_gguf does:
/// GGUF tensor names, model and tokenizer metadata, 1-D tensors in F32, 2-D weights in the chosen type
/// (llama.cpp's mix for q4_k_m), and for Llama the Q/K rows permuted so RoPE rotates adjacent pairs.
/// </summary>
public static class HfToGguf
{
    /// <summary>Writes <paramref name="outPath"/> atomically; returns the number of tensors written.</summary>
    public static int Convert(string hfDir, string outPath, string typeName, CancellationToken cancellationToken = default)
    {
        var (type, fileType) = SyntheticModel.ParseType(typeName);
        using var folder = HfModelFolder.Open(hfDir);
        var config = ModelConfig.FromHfConfig(folder.Config, Path.Combine(hfDir, "config.json"));
        if (!File.Exists(Path.Combine(hfDir, "tokenizer.json")))
            throw new RetortException($"{hfDir}: the folder has no tokenizer.json (expected a Hugging Face tokenizer beside config.json)");
        var vocab = HfVocabulary.Read(hfDir, config.VocabSize);
        string pre = config.Architecture == "llama" ? "llama-bpe" : vocab.HasDeepSeekMarkers ? "deepseek-r1-qwen" : "qwen2";
        bool tied = !folder.Tensors.ContainsKey("output.weight");

        var writer = new GgufWriter();
        SyntheticModel.WriteMetadata(writer, config, Path.GetFileName(Path.GetFullPath(hfDir).TrimEnd('/')), fileType, vocab, pre);
        foreach (var (name, tensor) in folder.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (!GgmlTypeInfo.IsSupported(tensor.Type))
                throw new RetortException($"{hfDir}: tensor '{name}' has dtype {tensor.Type}, which convert does not support (expected F32, F16 or BF16)");
            int heads = name.Contains("attn_q.") ? config.HeadCount : name.Contains("attn_k.") ? config.KvHeadCount : 0;
            bool permute = config.Architecture == "llama" && heads > 0;
            GgmlType target = tensor.Shape.Length != 2 ? GgmlType.F32
                : SyntheticModel.TensorType(type, name, config.LayerCount, (int)tensor.RowLength, tied);
            if (tensor.Shape.Length == 2 && tensor.RowLength % GgmlTypeInfo.BlockSize(target) != 0) target = GgmlType.F16;
            var source = tensor;
            writer.AddTensor(name, target, tensor.Shape, stream => WriteRows(source, target, permute ? heads : 0, stream));
        }
        writer.Write(outPath, cancellationToken);
        return writer.TensorCount;
    }

    /// <summary>
    /// Streams the tensor in <paramref name="target"/>'s layout. With <paramref name="permuteHeads"/> > 0
    /// the rows (or, for a bias, the elements) of each head go from HF's (half, pair) order to (pair, half).
    /// </summary>
    private static void WriteRows(TensorData tensor, GgmlType target, int permuteHeads, Stream stream)
    {
        bool vector = tensor.Shape.Length == 1;
        int rowLength = vector ? 1 : (int)tensor.RowLength;
        int rows = vector ? (int)tensor.RowLength : (int)tensor.RowCount;
        float[] all = Dequantize.Tensor(tensor);
        var bytes = new byte[GgmlTypeInfo.RowBytes(target, rowLength)];
        int perHead = permuteHeads > 0 ? rows / permuteHeads : 0;
        for (int r = 0; r < rows; r++)
        {
            int from = r;
            if (permuteHeads > 0)
            {
                // Row r of the output is (head h, pair j, half s) = h·perHead + 2j + s; it comes from h·perHead + s·perHead/2 + j.
                int h = r / perHead, within = r % perHead;
                from = h * perHead + within % 2 * (perHead / 2) + within / 2;
            }
            Quantize.Row(target, all.AsSpan(from * rowLength, rowLength), bytes);
            stream.Write(bytes);
        }
    }
}
