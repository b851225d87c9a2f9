using System.Buffers.Binary;
using System.Text;

namespace Retort.Engine.Formats.Gguf;

/// <summary>
/// A cursor over the mapped bytes of a GGUF file. Every read checks the remaining length first and
/// reports a one-line <see cref="RetortException"/> naming the file and offset, so malformed input can
/// never turn into an access violation or an index/overflow exception.
/// </summary>
internal unsafe struct GgufReader
{
    private readonly byte* _base;
    private readonly string _path;

    public GgufReader(byte* data, long length, string path)
    {
        _base = data;
        Length = length;
        _path = path;
        Position = 0;
    }

    public long Length { get; }

    public long Position { get; private set; }

    public readonly long Remaining => Length - Position;

    public readonly RetortException Error(long offset, string expected, string found) =>
        new(Retort.Engine.IO.MessageText.OneLine($"malformed GGUF file '{_path}' at byte {offset}: expected {expected}, found {found}"));

    private void Need(long count, string what)
    {
        if (count < 0 || count > Remaining)
            throw Error(Position, $"{what} ({count} bytes)", $"only {Remaining} bytes left before the end of the file (length {Length})");
    }

    public byte U8(string what)
    {
        Need(1, what);
        return _base[Position++];
    }

    public ushort U16(string what)
    {
        Need(2, what);
        ushort v = BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(_base + Position, 2));
        Position += 2;
        return v;
    }

    public uint U32(string what)
    {
        Need(4, what);
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_base + Position, 4));
        Position += 4;
        return v;
    }

    public ulong U64(string what)
    {
        Need(8, what);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_base + Position, 8));
        Position += 8;
        return v;
    }

    /// <summary>A count that must fit in the file given that each item takes at least <paramref name="minItemBytes"/>.</summary>
    public long Count(string what, long minItemBytes)
    {
        long at = Position;
        ulong n = U64(what);
        ulong max = (ulong)Math.Max(0, Remaining) / (ulong)Math.Max(1, minItemBytes);
        if (n > max)
            throw Error(at, $"{what} of at most {max} (each takes at least {minItemBytes} bytes and {Remaining} bytes remain)", n.ToString());
        return (long)n;
    }

    public string String(string what) => ReadString(what, -1);

    /// <summary>Element <paramref name="index"/> of string array <paramref name="key"/>; the message is only built on failure.</summary>
    public string String(string key, long index) => ReadString(key, index);

    // Hot path for 150k-entry vocabularies: no message text is formatted unless something is wrong.
    private string ReadString(string what, long index)
    {
        long at = Position;
        if (Remaining < 8)
            throw Error(at, $"length of {Describe(what, index)} (8 bytes)", $"only {Remaining} bytes left before the end of the file (length {Length})");
        ulong len = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_base + Position, 8));
        Position += 8;
        if (len > (ulong)Remaining)
            throw Error(at, $"{Describe(what, index)} length that fits in the file ({Remaining} bytes left)", $"length {len}");
        if (len > int.MaxValue)
            throw Error(at, $"{Describe(what, index)} length under 2 GiB", $"length {len}");
        string s = len == 0 ? string.Empty : Encoding.UTF8.GetString(_base + Position, (int)len);
        Position += (long)len;
        return s;
    }

    private static string Describe(string what, long index) =>
        index < 0 ? what : $"element {index} of {Retort.Engine.IO.MessageText.Quote(what)}";

    /// <summary>Copies <paramref name="count"/> fixed-size little-endian elements; the caller checked the count.</summary>
    public T[] Array<T>(long count, string what) where T : unmanaged
    {
        long bytes = count * sizeof(T);
        Need(bytes, what);
        var result = new T[count];
        var src = new ReadOnlySpan<byte>(_base + Position, (int)bytes);
        if (BitConverter.IsLittleEndian)
        {
            src.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(result.AsSpan()));
        }
        else
        {
            throw new PlatformNotSupportedException("Retort reads GGUF files only on little-endian machines");
        }
        Position += bytes;
        return result;
    }
}
