using System.Text;

namespace Retort.Engine.Tests.Support;

/// <summary>
/// Writes GGUF bytes by hand, field by field, independently of GgufWriter, so tests can produce
/// exactly the malformed headers they need.
/// </summary>
internal sealed class RawGguf
{
    private readonly MemoryStream _stream = new();
    private readonly BinaryWriter _w;

    public RawGguf() => _w = new BinaryWriter(_stream, Encoding.UTF8, leaveOpen: true);

    public long Position => _stream.Position;

    public RawGguf Header(uint version, ulong tensors, ulong kvs, uint magic = 0x46554747)
    {
        _w.Write(magic);
        _w.Write(version);
        _w.Write(tensors);
        _w.Write(kvs);
        return this;
    }

    public RawGguf Str(string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        _w.Write((ulong)b.Length);
        _w.Write(b);
        return this;
    }

    public RawGguf U8(byte v) { _w.Write(v); return this; }
    public RawGguf U32(uint v) { _w.Write(v); return this; }
    public RawGguf U64(ulong v) { _w.Write(v); return this; }
    public RawGguf F32(float v) { _w.Write(v); return this; }

    public RawGguf KvU32(string key, uint value) => Str(key).U32(4).U32(value);

    public RawGguf KvString(string key, string value) => Str(key).U32(8).Str(value);

    public RawGguf TensorInfo(string name, ulong[] dims, uint type, ulong offset)
    {
        Str(name).U32((uint)dims.Length);
        foreach (ulong d in dims) U64(d);
        return U32(type).U64(offset);
    }

    public RawGguf Align(int alignment = 32)
    {
        while (_stream.Position % alignment != 0) _w.Write((byte)0);
        return this;
    }

    public RawGguf Bytes(int count, byte value = 0)
    {
        for (int i = 0; i < count; i++) _w.Write(value);
        return this;
    }

    public byte[] ToArray()
    {
        _w.Flush();
        return _stream.ToArray();
    }

    public string WriteTo(TempDir dir, string name = "test.gguf")
    {
        string path = dir.File(name);
        File.WriteAllBytes(path, ToArray());
        return path;
    }
}
