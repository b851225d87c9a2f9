using System.Runtime.InteropServices;
using System.Text.Json;
using Retort.Engine.IO;
using Retort.Engine.Quantization;

namespace Retort.Engine.Formats.SafeTensors;

/// <summary>
/// Writes float32 tensors to a .safetensors file (as F32 or BF16), atomically (<see cref="AtomicFile"/>).
/// Shapes are given in PyTorch order.
/// </summary>
internal static class SafeTensorsWriter
{
    public static void Write(string path, IEnumerable<(string Name, IReadOnlyList<int> Shape, float[] Data)> tensors,
        bool bf16 = false, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        var list = tensors.ToList();
        int elementBytes = bf16 ? 2 : 4;
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, shape, data) in list)
            {
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (count != data.Length) throw new ArgumentException($"tensor '{name}': {data.Length} values for shape [{string.Join(", ", shape)}]");
                json.WriteStartObject(name);
                json.WriteString("dtype", bf16 ? "BF16" : "F32");
                json.WriteStartArray("shape");
                foreach (int d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += count * elementBytes;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // The data section starts 8-byte aligned: pad the header with spaces, as the reference writer does.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BitConverter.TryWriteBytes(length, header.Length);
            stream.Write(length);
            header.Position = 0;
            header.CopyTo(stream);
            foreach (var (_, _, data) in list)
            {
                if (!bf16)
                {
                    stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
                    continue;
                }
                var half = new ushort[data.Length];
                for (int i = 0; i < data.Length; i++) half[i] = Fp16.FloatToBF16(data[i]);
                stream.Write(MemoryMarshal.AsBytes(half.AsSpan()));
            }
        }, cancellationToken);
    }
}
