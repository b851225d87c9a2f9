using System.Text;
using System.Text.Json;

namespace Retort.Engine.Tests.Support;

/// <summary>Writes .safetensors files for tests (shape outermost-first, as the format stores it).</summary>
internal sealed class SafeTensorsBuilder
{
    private readonly List<(string Name, string DType, long[] Shape, byte[] Data)> _tensors = [];

    public SafeTensorsBuilder Add(string name, string dtype, long[] shape, byte[] data)
    {
        _tensors.Add((name, dtype, shape, data));
        return this;
    }

    public string HeaderJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            w.WriteString("format", "pt");
            w.WriteEndObject();
            long offset = 0;
            foreach (var t in _tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (long d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Data.Length;
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public byte[] ToArray() => Build(HeaderJson(), _tensors.SelectMany(t => t.Data).ToArray());

    /// <summary>A file from an arbitrary header string and data, padding the header with spaces to 8 bytes.</summary>
    public static byte[] Build(string header, byte[] data)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        int padded = (h.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + data.Length];
        BitConverter.GetBytes((ulong)padded).CopyTo(file, 0);
        h.CopyTo(file, 8);
        for (int i = 8 + h.Length; i < 8 + padded; i++) file[i] = (byte)' ';
        data.CopyTo(file, 8 + padded);
        return file;
    }
}
