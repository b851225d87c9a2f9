using System.Buffers.Binary;
using System.Text.Json;
using Retort.Engine.IO;
using Retort.Engine.Tensors;

namespace Retort.Engine.Formats.SafeTensors;

/// <summary>
/// A .safetensors file, memory-mapped read-only. Layout: an 8-byte little-endian header length n,
/// n bytes of JSON mapping tensor names to {dtype, shape, data_offsets} (offsets relative to the
/// end of the header) plus an optional "__metadata__" string map, then the data.
/// Tensors are exposed under their own names with Shape reversed into ggml order.
/// dtypes F32, F16, BF16 (and F64, I8, I16, I32, I64, which the model loader rejects later) are
/// accepted; any other dtype is rejected when the file is opened, naming the tensor, because a
/// tensor Retort cannot even describe as a <see cref="GgmlType"/> is better reported up front.
/// </summary>
public sealed unsafe class SafeTensorsFile : ITensorStore
{
    // Real headers are at most a few MB even for very large sharded models; anything beyond this is corrupt.
    internal const long MaxHeaderBytes = 100L << 20;

    private readonly MappedFile _file;

    private SafeTensorsFile(MappedFile file, long dataOffset, Dictionary<string, string> metadata, List<TensorData> tensors)
    {
        _file = file;
        DataOffset = dataOffset;
        Metadata = metadata;
        TensorList = tensors;
        var byName = new Dictionary<string, TensorData>(tensors.Count, StringComparer.Ordinal);
        foreach (TensorData t in tensors) byName.Add(t.Name, t);
        Tensors = byName;
    }

    public string Path => _file.Path;

    /// <summary>File offset where the data section starts (8 + header length).</summary>
    public long DataOffset { get; }

    /// <summary>The "__metadata__" entries, empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public IReadOnlyDictionary<string, TensorData> Tensors { get; }

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<TensorData> TensorList { get; }

    public static SafeTensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        MappedFile file = MappedFile.Open(path);
        try
        {
            return Parse(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    internal static GgmlType? MapDType(string dtype) => dtype switch
    {
        "F32" => GgmlType.F32,
        "F16" => GgmlType.F16,
        "BF16" => GgmlType.BF16,
        "F64" => GgmlType.F64,
        "I8" => GgmlType.I8,
        "I16" => GgmlType.I16,
        "I32" => GgmlType.I32,
        "I64" => GgmlType.I64,
        _ => null,
    };

    private static RetortException Error(string path, long offset, string expected, string found) =>
        new(MessageText.OneLine($"malformed safetensors file '{path}' at byte {offset}: expected {expected}, found {found}"));

    private static SafeTensorsFile Parse(MappedFile file)
    {
        string path = file.Path;
        if (file.Length < 8)
            throw Error(path, 0, "an 8-byte header length", $"a file of only {file.Length} bytes");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file.Span(0, 8));
        ulong maxHeader = (ulong)Math.Min(MaxHeaderBytes, file.Length - 8);
        if (headerLength < 2 || headerLength > maxHeader)
            throw Error(path, 0, $"a header length from 2 to {maxHeader}", headerLength.ToString());
        long dataOffset = 8 + (long)headerLength;
        long dataLength = file.Length - dataOffset;

        ReadOnlySpan<byte> header = file.Span(8, (int)headerLength);
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw Error(path, 8, "a UTF-8 JSON header", "bytes that are not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(file.Span(8, (int)headerLength).ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw Error(path, 8 + (e.BytePositionInLine ?? 0), "a JSON header", $"invalid JSON ({e.Message.Split('\n')[0]})");
        }

        using (doc)
        {
            try
            {
                return ParseHeader(file, path, doc.RootElement, dataOffset, dataLength);
            }
            catch (InvalidOperationException e)
            {
                // JsonElement throws this for strings it cannot decode (e.g. escaped lone surrogates).
                throw Error(path, 8, "a well-formed JSON header", $"undecodable text ({e.Message})");
            }
        }
    }

    private static SafeTensorsFile ParseHeader(MappedFile file, string path, JsonElement root, long dataOffset, long dataLength)
    {
        {
            if (root.ValueKind != JsonValueKind.Object)
                throw Error(path, 8, "a JSON object header", $"a JSON {root.ValueKind}");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<TensorData>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty p in root.EnumerateObject())
            {
                if (!names.Add(p.Name))
                    throw Error(path, 8, "unique names in the header", $"{MessageText.Quote(p.Name)} twice");
                if (p.Name == "__metadata__")
                {
                    if (p.Value.ValueKind != JsonValueKind.Object)
                        throw Error(path, 8, "__metadata__ to be an object", $"a JSON {p.Value.ValueKind}");
                    foreach (JsonProperty m in p.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw Error(path, 8, $"__metadata__ value {MessageText.Quote(m.Name)} to be a string", $"a JSON {m.Value.ValueKind}");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                tensors.Add(ParseTensor(file, path, p, dataOffset, dataLength));
            }
            return new SafeTensorsFile(file, dataOffset, metadata, tensors);
        }
    }

    private static TensorData ParseTensor(MappedFile file, string path, JsonProperty p, long dataOffset, long dataLength)
    {
        string name = p.Name;
        JsonElement e = p.Value;
        if (e.ValueKind != JsonValueKind.Object)
            throw Error(path, EntryOffset(file, dataOffset, name), $"tensor {MessageText.Quote(name)} to be a JSON object", $"a JSON {e.ValueKind}");
        if (!e.TryGetProperty("dtype", out JsonElement dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
            throw Error(path, EntryOffset(file, dataOffset, name), $"a string 'dtype' for tensor {MessageText.Quote(name)}", "none");
        string dtype = dtypeEl.GetString()!;
        GgmlType type = MapDType(dtype)
            ?? throw new RetortException(MessageText.OneLine($"safetensors file '{path}': tensor {MessageText.Quote(name)} has dtype {dtype}, which Retort does not support (expected F32, F16 or BF16)"));

        if (!e.TryGetProperty("shape", out JsonElement shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
            throw Error(path, EntryOffset(file, dataOffset, name), $"a 'shape' array for tensor {MessageText.Quote(name)}", "none");
        int rank = shapeEl.GetArrayLength();
        if (rank > 8)
            throw Error(path, EntryOffset(file, dataOffset, name), $"tensor {MessageText.Quote(name)} to have at most 8 dimensions", rank.ToString());
        var shape = new long[Math.Max(rank, 1)];
        shape[0] = 1;
        long elements = 1;
        int i = 0;
        foreach (JsonElement dim in shapeEl.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d) || d < 0)
                throw Error(path, EntryOffset(file, dataOffset, name), $"non-negative integer dimensions for tensor {MessageText.Quote(name)}", dim.GetRawText());
            // safetensors lists the outermost dimension first; ggml order is innermost first.
            shape[rank - 1 - i] = d;
            if (d != 0 && elements > long.MaxValue / d)
                throw Error(path, EntryOffset(file, dataOffset, name), $"tensor {MessageText.Quote(name)} to have fewer than 2^63 elements", $"shape {shapeEl.GetRawText()}");
            elements *= d;
            i++;
        }

        if (!e.TryGetProperty("data_offsets", out JsonElement offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2
            || !offEl[0].TryGetInt64Safe(out long begin) || !offEl[1].TryGetInt64Safe(out long end))
            throw Error(path, EntryOffset(file, dataOffset, name), $"'data_offsets' [begin, end] of non-negative integers for tensor {MessageText.Quote(name)}",
                e.TryGetProperty("data_offsets", out JsonElement raw) ? raw.GetRawText() : "none");
        if (begin < 0 || end < begin || end > dataLength)
            throw Error(path, EntryOffset(file, dataOffset, name), $"tensor {MessageText.Quote(name)} data [{begin}, {end}) inside the {dataLength}-byte data section", $"it ends at file byte {dataOffset + end}");
        int elemBytes = GgmlTypeInfo.BlockBytes(type);
        if (elements > long.MaxValue / elemBytes || elements * elemBytes != end - begin)
            throw Error(path, EntryOffset(file, dataOffset, name), $"tensor {MessageText.Quote(name)} ({dtype} {shapeEl.GetRawText()}) to take {(elements > long.MaxValue / elemBytes ? "an overflowing number of" : (elements * elemBytes).ToString())} bytes", $"{end - begin} bytes in data_offsets");
        return new TensorData(name, type, shape, file.Pointer + dataOffset + begin, end - begin, fileMapped: true);
    }

    /// <summary>
    /// Where a tensor's entry starts in the header, for error messages (JsonElement keeps no
    /// positions); the header start when the name is written with escapes and cannot be found.
    /// </summary>
    private static long EntryOffset(MappedFile file, long dataOffset, string name)
    {
        byte[] needle = System.Text.Encoding.UTF8.GetBytes($"\"{name}\"");
        int i = file.Span(8, (int)(dataOffset - 8)).IndexOf(needle);
        return i < 0 ? 8 : 8 + i;
    }

    public void Dispose() => _file.Dispose();
}
