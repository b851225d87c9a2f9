using Retort.Engine.Formats.Gguf;
using Retort.Engine.Quantization;
using Retort.Engine.Synthesis;
using Retort.Engine.Tensors;

namespace Retort.Engine.Conversion;

/// <summary>
/// Re-quantizes a GGUF: every 2-D weight matrix is dequantized row by row and quantized to the target
/// type (for q4_k_m, llama.cpp's per-tensor mix), while 1-D tensors (norms, biases) and all metadata
/// are copied, with general.file_type updated. Rows are streamed, so memory stays near one row. A
/// split input (gguf-split parts) is read whole and written as one file.
/// </summary>
public static class GgufRequantizer
{
    /// <summary>Writes <paramref name="outPath"/> atomically and returns the number of tensors converted.</summary>
    public static int Requantize(string inPath, string outPath, string typeName, CancellationToken cancellationToken = default)
    {
        var (type, fileType) = SyntheticModel.ParseType(typeName);
        using var store = GgufSplitModel.OpenModel(inPath, out var gguf);
        string arch = gguf.GetString("general.architecture") ?? "";
        int layers = (int)(gguf.GetInteger($"{arch}.block_count") ?? 0);
        bool tied = !store.Tensors.ContainsKey("output.weight");

        var writer = new GgufWriter();
        // The output is one file: a split input's split.* keys do not describe it.
        foreach (string key in gguf.MetadataKeys.Where(k => !k.StartsWith("split.", StringComparison.Ordinal)))
            writer.SetMetadata(key, key == "general.file_type" ? GgufValue.Of((uint)fileType) : gguf.Metadata[key]);
        if (!gguf.Metadata.ContainsKey("general.file_type")) writer.SetMetadata("general.file_type", GgufValue.Of((uint)fileType));

        int converted = 0;
        foreach (var tensor in store is GgufSplitModel split ? split.TensorList : gguf.TensorList)
        {
            if (tensor.Shape.Length != 2)
            {
                writer.AddTensor(tensor);
                continue;
            }
            int rowLength = checked((int)tensor.RowLength);
            GgmlType target = SyntheticModel.TensorType(type, tensor.Name, layers, rowLength, tied);
            if (rowLength % GgmlTypeInfo.BlockSize(target) != 0)
                throw new RetortException(
                    $"{inPath}: tensor '{tensor.Name}' has rows of {rowLength} elements, not a multiple of {target}'s block of {GgmlTypeInfo.BlockSize(target)}");
            if (!GgmlTypeInfo.IsSupported(tensor.Type))
                throw new RetortException($"{inPath}: tensor '{tensor.Name}' has type {tensor.Type}, which Retort cannot dequantize");
            var source = tensor;
            writer.AddTensor(tensor.Name, target, tensor.Shape, stream => WriteRows(source, target, stream));
            converted++;
        }
        writer.Write(outPath, cancellationToken);
        return converted;
    }

    private static void WriteRows(TensorData tensor, GgmlType target, Stream stream)
    {
        int rowLength = (int)tensor.RowLength;
        var row = new float[rowLength];
        var bytes = new byte[GgmlTypeInfo.RowBytes(target, rowLength)];
        for (long r = 0; r < tensor.RowCount; r++)
        {
            Dequantize.Row(tensor.Type, tensor.RowBytes(r), row);
            Quantize.Row(target, row, bytes);
            stream.Write(bytes);
        }
    }
}
