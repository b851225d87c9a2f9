namespace Retort.Engine.Tensors;

/// <summary>
/// One named tensor whose bytes live in memory owned by its <see cref="ITensorStore"/> (usually a
/// memory-mapped model file). Shape is in ggml order: <c>Shape[0]</c> is the length of a row
/// (the innermost, contiguous dimension), so a PyTorch weight [out, in] has Shape = [in, out].
/// </summary>
public sealed unsafe class TensorData
{
    private readonly byte* _data;

    internal TensorData(string name, GgmlType type, long[] shape, byte* data, long byteLength, bool fileMapped = false)
    {
        FileMapped = fileMapped;
        Name = name;
        Type = type;
        Shape = shape;
        _data = data;
        ByteLength = byteLength;
    }

    public string Name { get; }

    public GgmlType Type { get; }

    /// <summary>Dimensions, innermost first (ggml's ne[]).</summary>
    public long[] Shape { get; }

    public long ByteLength { get; }

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Elements per row (Shape[0]).</summary>
    public long RowLength => Shape.Length == 0 ? 1 : Shape[0];

    /// <summary>Number of rows: the product of all dimensions but the first.</summary>
    public long RowCount => RowLength == 0 ? 0 : ElementCount / RowLength;

    public long RowByteLength => GgmlTypeInfo.RowBytes(Type, RowLength);

    internal byte* Pointer => _data;

    /// <summary>True when the bytes are a read-only mapping of a file, so their pages can be dropped and re-read.</summary>
    internal bool FileMapped { get; }

    /// <summary>The same memory under another name (the HF loader renames to GGUF names).</summary>
    internal TensorData WithName(string name) => new(name, Type, Shape, _data, ByteLength, FileMapped);

    /// <summary>The raw bytes of one row, still in the tensor's own type.</summary>
    public ReadOnlySpan<byte> RowBytes(long row)
    {
        if ((ulong)row >= (ulong)RowCount) throw new ArgumentOutOfRangeException(nameof(row));
        long rb = RowByteLength;
        return new ReadOnlySpan<byte>(_data + row * rb, checked((int)rb));
    }

    /// <summary>All bytes; only for tensors under 2 GiB.</summary>
    public ReadOnlySpan<byte> AllBytes() => new(_data, checked((int)ByteLength));

    public override string ToString() => $"{Name} {Type} [{string.Join(", ", Shape)}]";
}
