using Retort.Engine.IO;
using Retort.Engine.Tensors;

namespace Retort.Engine.Formats.Gguf;

/// <summary>
/// A GGUF (v2 or v3) file, memory-mapped read-only: its metadata key/values and its tensors, whose
/// bytes stay in the mapping. Disposing unmaps the file. All malformed input is reported as a
/// <see cref="RetortException"/> naming the file and byte offset.
/// </summary>
public sealed unsafe class GgufFile : ITensorStore, ITensorLocator
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    internal const uint Magic = 0x46554747;

    internal const uint DefaultAlignment = 32;

    // Nested arrays recurse; a hostile file could otherwise nest deeply enough to exhaust the stack.
    private const int MaxArrayNesting = 16;

    private const int MaxDims = 4;

    private readonly MappedFile _file;

    private GgufFile(MappedFile file, uint version, uint alignment, long dataOffset,
        Dictionary<string, GgufValue> metadata, List<string> metadataOrder, List<TensorData> tensors)
    {
        _file = file;
        Version = version;
        Alignment = alignment;
        DataOffset = dataOffset;
        _metadata = metadata;
        _metadataOrder = metadataOrder;
        TensorList = tensors;
        var byName = new Dictionary<string, TensorData>(tensors.Count, StringComparer.Ordinal);
        foreach (TensorData t in tensors) byName.Add(t.Name, t);
        Tensors = byName;
    }

    public string Path => _file.Path;

    public uint Version { get; }

    public uint Alignment { get; }

    /// <summary>File offset where the tensor data section starts (tensor offsets are relative to it).</summary>
    public long DataOffset { get; }

    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;

    private readonly Dictionary<string, GgufValue> _metadata;
    private readonly List<string> _metadataOrder;

    /// <summary>
    /// Forgets metadata values a caller has already turned into its own structures (a loaded model's
    /// tokenizer arrays: 300k strings, ~14 MiB of heap for R1's vocabulary that would otherwise be
    /// held twice for the life of the model).
    /// </summary>
    internal void DropMetadata(IEnumerable<string> keys)
    {
        foreach (string key in keys)
            if (_metadata.Remove(key)) _metadataOrder.Remove(key);
    }

    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> MetadataKeys => _metadataOrder;

    public IReadOnlyDictionary<string, TensorData> Tensors { get; }

    /// <summary>Tensors in file order.</summary>
    public IReadOnlyList<TensorData> TensorList { get; }

    public static GgufFile Open(string path)
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

    private static GgufFile Parse(MappedFile file)
    {
        string path = file.Path;
        if (file.Length < 4)
            throw Fail($"not a GGUF file: '{path}' at byte 0: expected magic 'GGUF', found a file of only {file.Length} bytes");
        var r = new GgufReader(file.Pointer, file.Length, path);

        uint magic = r.U32("magic");
        if (magic != Magic)
        {
            var b = file.Span(0, 4);
            string shown = string.Concat(b.ToArray().Select(x => x is >= 0x20 and < 0x7f ? ((char)x).ToString() : $"\\x{x:X2}"));
            throw Fail($"not a GGUF file: '{path}' at byte 0: expected magic 'GGUF', found '{shown}'");
        }

        long versionAt = r.Position;
        uint version = r.U32("version");
        if (version is not (2 or 3))
        {
            string detail = version switch
            {
                1 => "version 1 (GGUF v1 is obsolete and not supported; re-convert the model with a current llama.cpp)",
                _ when System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(version) is 2 or 3 => $"version {version} (a big-endian GGUF file, which Retort does not read)",
                _ => $"version {version}",
            };
            throw Fail($"unsupported GGUF file '{path}' at byte {versionAt}: expected version 2 or 3, found {detail}");
        }

        // Minimum on-disk sizes: tensor info = name length(8) + n_dims(4) + type(4) + offset(8);
        // key/value = key length(8) + type(4) + smallest value(1).
        long tensorCount = r.Count("tensor count", 24);
        long kvCount = r.Count("metadata key/value count", 13);

        var metadata = new Dictionary<string, GgufValue>((int)Math.Min(kvCount, 4096), StringComparer.Ordinal);
        var order = new List<string>((int)Math.Min(kvCount, 4096));
        long alignmentAt = 0;
        for (long i = 0; i < kvCount; i++)
        {
            long keyAt = r.Position;
            string key = r.String($"key of metadata entry {i}");
            if (metadata.ContainsKey(key))
                throw r.Error(keyAt, "unique metadata keys", $"key {MessageText.Quote(key)} a second time");
            long typeAt = r.Position;
            uint type = r.U32($"value type of {MessageText.Quote(key)}");
            GgufValue value = ReadValue(ref r, type, typeAt, key, 0);
            if (key == "general.alignment") alignmentAt = typeAt;
            metadata.Add(key, value);
            order.Add(key);
        }

        uint alignment = DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out GgufValue? alignValue))
        {
            long? a = alignValue.AsInteger();
            if (a is not long av || av <= 0 || av > 1 << 24 || (av & (av - 1)) != 0)
                throw r.Error(alignmentAt, "general.alignment to be a power-of-two integer up to 2^24", $"{alignValue.Type} {MessageText.Quote(alignValue.ToString())}");
            alignment = (uint)av;
        }

        var infos = new List<(string Name, long[] Shape, GgmlType Type, ulong Offset, long Bytes, long At)>((int)Math.Min(tensorCount, 65536));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            long at = r.Position;
            string name = r.String($"name of tensor {i}");
            if (!names.Add(name))
                throw r.Error(at, "unique tensor names", $"tensor {MessageText.Quote(name)} a second time");
            long dimsAt = r.Position;
            uint nDims = r.U32($"dimension count of tensor {MessageText.Quote(name)}");
            if (nDims is 0 or > MaxDims)
                throw r.Error(dimsAt, $"tensor {MessageText.Quote(name)} to have 1 to {MaxDims} dimensions", nDims.ToString());
            var shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                long dimAt = r.Position;
                ulong dim = r.U64($"dimension {d} of tensor {MessageText.Quote(name)}");
                if (dim == 0 || dim > long.MaxValue)
                    throw r.Error(dimAt, $"a positive dimension {d} for tensor {MessageText.Quote(name)}", ((long)dim).ToString());
                shape[d] = (long)dim;
                if (elements > long.MaxValue / (long)dim)
                    throw r.Error(dimAt, $"tensor {MessageText.Quote(name)} to have fewer than 2^63 elements", $"shape [{string.Join(", ", shape.Take(d + 1))}] overflowing");
                elements *= (long)dim;
            }
            long typeAt = r.Position;
            uint rawType = r.U32($"type of tensor {MessageText.Quote(name)}");
            var type = (GgmlType)rawType;
            int blockSize = GgmlTypeInfo.BlockSize(type);
            int blockBytes = GgmlTypeInfo.BlockBytes(type);
            if (!Enum.IsDefined(type) || blockSize == 0 || blockBytes == 0)
            {
                string known = Enum.IsDefined(type) ? $"{rawType} ({type})" : rawType.ToString();
                throw Fail($"malformed GGUF file '{path}' at byte {typeAt}: tensor {MessageText.Quote(name)} has type {known}, which Retort does not know");
            }
            if (shape[0] % blockSize != 0)
                throw r.Error(dimsAt, $"tensor {MessageText.Quote(name)} of type {type} to have a row length that is a multiple of {blockSize}", $"row length {shape[0]}");
            long blocks = elements / blockSize;
            if (blocks > long.MaxValue / blockBytes)
                throw r.Error(dimsAt, $"tensor {MessageText.Quote(name)} to have a byte size under 2^63", $"{blocks} blocks of {blockBytes} bytes");
            long bytes = blocks * blockBytes;
            long offsetAt = r.Position;
            ulong offset = r.U64($"data offset of tensor {MessageText.Quote(name)}");
            if (offset % alignment != 0)
                throw r.Error(offsetAt, $"tensor {MessageText.Quote(name)} data offset aligned to {alignment}", offset.ToString());
            infos.Add((name, shape, type, offset, bytes, offsetAt));
        }

        long headerEnd = r.Position;
        long dataOffset = headerEnd + (alignment - headerEnd % alignment) % alignment;
        if (infos.Count > 0 && dataOffset > file.Length)
            throw r.Error(headerEnd, $"the tensor data section at byte {dataOffset}", $"the file ends at byte {file.Length}");

        var tensors = new List<TensorData>(infos.Count);
        long dataLength = Math.Max(0, file.Length - dataOffset);
        foreach (var t in infos)
        {
            if (t.Offset > (ulong)dataLength || (ulong)t.Bytes > (ulong)dataLength - t.Offset)
                throw r.Error(t.At, $"tensor {MessageText.Quote(t.Name)} ({t.Bytes} bytes at data offset {t.Offset}) to lie inside the data section of {dataLength} bytes",
                    $"it runs to byte {(ulong)dataOffset + t.Offset + (ulong)t.Bytes} of a {file.Length}-byte file");
            tensors.Add(new TensorData(t.Name, t.Type, t.Shape, file.Pointer + dataOffset + (long)t.Offset, t.Bytes, fileMapped: true));
        }

        return new GgufFile(file, version, alignment, dataOffset, metadata, order, tensors);
    }

    private static RetortException Fail(string message) => new(MessageText.OneLine(message));

    private static GgufValue ReadValue(ref GgufReader r, uint type, long typeAt, string key, int depth)
    {
        switch ((GgufValueType)type)
        {
            case GgufValueType.UInt8: return GgufValue.Of(r.U8(key));
            case GgufValueType.Int8: return GgufValue.Of((sbyte)r.U8(key));
            case GgufValueType.UInt16: return GgufValue.Of(r.U16(key));
            case GgufValueType.Int16: return GgufValue.Of((short)r.U16(key));
            case GgufValueType.UInt32: return GgufValue.Of(r.U32(key));
            case GgufValueType.Int32: return GgufValue.Of((int)r.U32(key));
            case GgufValueType.Float32: return GgufValue.Of(BitConverter.Int32BitsToSingle((int)r.U32(key)));
            case GgufValueType.Bool: return GgufValue.Of(r.U8(key) != 0);
            case GgufValueType.String: return GgufValue.Of(r.String($"string value of {MessageText.Quote(key)}"));
            case GgufValueType.UInt64: return GgufValue.Of(r.U64(key));
            case GgufValueType.Int64: return GgufValue.Of((long)r.U64(key));
            case GgufValueType.Float64: return GgufValue.Of(BitConverter.Int64BitsToDouble((long)r.U64(key)));
            case GgufValueType.Array: return ReadArray(ref r, key, depth);
            default:
                throw r.Error(typeAt, $"a metadata value type 0 to 12 for {MessageText.Quote(key)}", type.ToString());
        }
    }

    private static GgufValue ReadArray(ref GgufReader r, string key, int depth)
    {
        long typeAt = r.Position;
        uint raw = r.U32($"array element type of {MessageText.Quote(key)}");
        var et = (GgufValueType)raw;
        if (raw > (uint)GgufValueType.Float64)
            throw r.Error(typeAt, $"an array element type 0 to 12 for {MessageText.Quote(key)}", raw.ToString());
        long minSize = et switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.Array => 12,
            _ => 8,
        };
        long countAt = r.Position;
        long n = r.Count($"element count of array {MessageText.Quote(key)}", minSize);
        if (n > int.MaxValue / 8)
            throw r.Error(countAt, $"an array of {MessageText.Quote(key)} with fewer than {int.MaxValue / 8} elements", n.ToString());
        switch (et)
        {
            case GgufValueType.UInt8: return GgufValue.Of(r.Array<byte>(n, key));
            case GgufValueType.Int8: return GgufValue.Of(r.Array<sbyte>(n, key));
            case GgufValueType.UInt16: return GgufValue.Of(r.Array<ushort>(n, key));
            case GgufValueType.Int16: return GgufValue.Of(r.Array<short>(n, key));
            case GgufValueType.UInt32: return GgufValue.Of(r.Array<uint>(n, key));
            case GgufValueType.Int32: return GgufValue.Of(r.Array<int>(n, key));
            case GgufValueType.Float32: return GgufValue.Of(r.Array<float>(n, key));
            case GgufValueType.UInt64: return GgufValue.Of(r.Array<ulong>(n, key));
            case GgufValueType.Int64: return GgufValue.Of(r.Array<long>(n, key));
            case GgufValueType.Float64: return GgufValue.Of(r.Array<double>(n, key));
            case GgufValueType.Bool:
            {
                byte[] bytes = r.Array<byte>(n, key);
                var b = new bool[n];
                for (int i = 0; i < b.Length; i++) b[i] = bytes[i] != 0;
                return GgufValue.Of(b);
            }
            case GgufValueType.String:
            {
                var s = new string[n];
                for (int i = 0; i < s.Length; i++) s[i] = r.String(key, i);
                return GgufValue.Of(s);
            }
            default:
            {
                if (depth + 1 >= MaxArrayNesting)
                    throw r.Error(typeAt, $"arrays in {MessageText.Quote(key)} nested at most {MaxArrayNesting} deep", "deeper nesting");
                var a = new GgufValue[n];
                // Elements of an array of arrays are bare arrays (element type, count, data) with no value-type tag.
                for (int i = 0; i < a.Length; i++) a[i] = ReadArray(ref r, key, depth + 1);
                return GgufValue.OfArrays(a);
            }
        }
    }

    private GgufValue? Get(string key, string expected, Func<GgufValue, bool> accepts)
    {
        if (!Metadata.TryGetValue(key, out GgufValue? v)) return null;
        if (!accepts(v))
        {
            string found = v.IsArray ? $"an array of {v.ElementType}" : v.Type.ToString();
            throw Fail($"GGUF file '{Path}': expected metadata {MessageText.Quote(key)} to be {expected}, found {found}");
        }
        return v;
    }

    private static bool IsIntegerType(GgufValueType? t) => t is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16
        or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    private static bool IsNumberType(GgufValueType? t) => IsIntegerType(t) || t is GgufValueType.Float32 or GgufValueType.Float64;

    /// <summary>A string value; null when the key is absent; a wrong type is an error.</summary>
    public string? GetString(string key) => (string?)Get(key, "a string", v => v.Type == GgufValueType.String)?.Value;

    /// <summary>Any integer type as a long; null when absent.</summary>
    public long? GetInteger(string key)
    {
        GgufValue? v = Get(key, "an integer", v => IsIntegerType(v.Type));
        if (v is null) return null;
        return v.AsInteger() ?? throw Fail($"GGUF file '{Path}': metadata {MessageText.Quote(key)} = {v} does not fit in a 64-bit signed integer");
    }

    /// <summary>Any float or integer type as a double; null when absent.</summary>
    public double? GetFloat(string key) => Get(key, "a number", v => IsNumberType(v.Type))?.AsDouble();

    public bool? GetBool(string key) => (bool?)Get(key, "a bool", v => v.Type == GgufValueType.Bool)?.Value;

    public string[]? GetStringArray(string key) =>
        (string[]?)Get(key, "an array of strings", v => v.IsArray && v.ElementType == GgufValueType.String)?.Value;

    public long[]? GetIntegerArray(string key)
    {
        GgufValue? v = Get(key, "an array of integers", v => v.IsArray && IsIntegerType(v.ElementType));
        if (v is null) return null;
        // Switch on the declared element type: the CLR lets a uint[] pass as an int[] (and
        // sbyte[]/byte[], ulong[]/long[]), so pattern matching on the array type would misread signs.
        var result = new long[((Array)v.Value).Length];
        switch (v.ElementType)
        {
            case GgufValueType.UInt8: { var a = (byte[])v.Value; for (int i = 0; i < a.Length; i++) result[i] = a[i]; break; }
            case GgufValueType.Int8: { var a = (sbyte[])v.Value; for (int i = 0; i < a.Length; i++) result[i] = a[i]; break; }
            case GgufValueType.UInt16: { var a = (ushort[])v.Value; for (int i = 0; i < a.Length; i++) result[i] = a[i]; break; }
            case GgufValueType.Int16: { var a = (short[])v.Value; for (int i = 0; i < a.Length; i++) result[i] = a[i]; break; }
            case GgufValueType.UInt32: { var a = (uint[])v.Value; for (int i = 0; i < a.Length; i++) result[i] = a[i]; break; }
            case GgufValueType.Int32: { var a = (int[])v.Value; for (int i = 0; i < a.Length; i++) result[i] = a[i]; break; }
            case GgufValueType.Int64: ((long[])v.Value).CopyTo(result, 0); break;
            case GgufValueType.UInt64:
            {
                var a = (ulong[])v.Value;
                for (int i = 0; i < a.Length; i++)
                {
                    if (a[i] > long.MaxValue)
                        throw Fail($"GGUF file '{Path}': element {i} of metadata {MessageText.Quote(key)} = {a[i]} does not fit in a 64-bit signed integer");
                    result[i] = (long)a[i];
                }
                break;
            }
        }
        return result;
    }

    public float[]? GetFloatArray(string key)
    {
        GgufValue? v = Get(key, "an array of numbers", v => v.IsArray && IsNumberType(v.ElementType));
        if (v is null) return null;
        if (v.ElementType == GgufValueType.Float32) return (float[])((float[])v.Value).Clone();
        if (v.ElementType == GgufValueType.Float64) return Array.ConvertAll((double[])v.Value, x => (float)x);
        long[] ints = GetIntegerArray(key)!;
        return Array.ConvertAll(ints, x => (float)x);
    }

    string ITensorLocator.Locate(string name) => $"'{Path}': tensor {MessageText.Quote(name)}";

    string ITensorLocator.FormatShape(IReadOnlyList<long> ggmlShape) => $"[{string.Join(", ", ggmlShape)}]";

    public void Dispose() => _file.Dispose();
}
