using System.Text;
using Retort.Engine.IO;
using Retort.Engine.Tensors;

namespace Retort.Engine.Formats.Gguf;

/// <summary>
/// Builds a GGUF v3 file in memory (metadata in insertion order, tensors with their raw bytes) and
/// writes it atomically (<see cref="AtomicFile"/>), so a crash or an interruption never leaves a
/// half-written model under the real name.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly Dictionary<string, int> _metadataIndex = new(StringComparer.Ordinal);
    // A tensor holds either its bytes or a producer that streams them at write time, so a multi-GB
    // model need not sit in memory.
    private readonly List<(string Name, GgmlType Type, long[] Shape, byte[]? Data, long Bytes, Action<Stream>? Producer)> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    /// <summary>Alignment of the data section and every tensor; setting "general.alignment" changes it too.</summary>
    public uint Alignment { get; private set; } = GgufFile.DefaultAlignment;

    public int TensorCount => _tensors.Count;

    /// <summary>Adds or replaces a metadata entry (a replaced key keeps its original position).</summary>
    public GgufWriter SetMetadata(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key == "general.alignment")
        {
            long? a = value.AsInteger();
            if (value.IsArray || a is not long av || av <= 0 || av > 1 << 24 || (av & (av - 1)) != 0)
                throw new ArgumentException("general.alignment must be a power-of-two integer", nameof(value));
            Alignment = (uint)av;
        }
        if (_metadataIndex.TryGetValue(key, out int i)) _metadata[i] = new(key, value);
        else
        {
            _metadataIndex.Add(key, _metadata.Count);
            _metadata.Add(new(key, value));
        }
        return this;
    }

    /// <summary>Adds a tensor; <paramref name="shape"/> is ggml order and <paramref name="data"/> its exact bytes.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        long bytes = CheckTensor(name, type, shape);
        if (data.Length != bytes)
        {
            _tensorNames.Remove(name);
            throw new ArgumentException($"tensor '{name}' needs {bytes} bytes, got {data.Length}", nameof(data));
        }
        _tensors.Add((name, type, shape.ToArray(), data.ToArray(), bytes, null));
        return this;
    }

    /// <summary>
    /// Adds a tensor whose bytes <paramref name="produce"/> writes to the stream during <see cref="Write"/>;
    /// it must write exactly the tensor's size.
    /// </summary>
    public GgufWriter AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, Action<Stream> produce)
    {
        ArgumentNullException.ThrowIfNull(produce);
        long bytes = CheckTensor(name, type, shape);
        _tensors.Add((name, type, shape.ToArray(), null, bytes, produce));
        return this;
    }

    /// <summary>Validates a new tensor, reserves its name and returns its byte size.</summary>
    private long CheckTensor(string name, GgmlType type, ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_tensorNames.Add(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        try
        {
            if (shape.Length is 0 or > 4) throw new ArgumentException($"tensor '{name}' must have 1 to 4 dimensions", nameof(shape));
            int bs = GgmlTypeInfo.BlockSize(type), bb = GgmlTypeInfo.BlockBytes(type);
            if (bs == 0 || bb == 0) throw new ArgumentException($"tensor type {type} has no known block layout", nameof(type));
            long elements = 1;
            foreach (long d in shape)
            {
                if (d <= 0) throw new ArgumentException($"tensor '{name}' has a non-positive dimension", nameof(shape));
                elements = checked(elements * d);
            }
            if (shape[0] % bs != 0) throw new ArgumentException($"tensor '{name}' row length {shape[0]} is not a multiple of {bs}", nameof(shape));
            return checked(elements / bs * bb);
        }
        catch
        {
            _tensorNames.Remove(name);
            throw;
        }
    }

    public GgufWriter AddTensor(TensorData tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return AddTensor(tensor.Name, tensor.Type, tensor.Shape, tensor.AllBytes());
    }

    /// <summary>Writes the file through <see cref="AtomicFile"/>; a cancelled write leaves <paramref name="path"/> as it was.</summary>
    public void Write(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.Write(path, WriteTo, cancellationToken);
    }

    private void WriteTo(Stream stream)
    {
        var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }

        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            offsets[i] = offset;
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            foreach (long d in t.Shape) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset += Pad(t.Bytes);
        }

        WritePadding(w, w.BaseStream.Position);
        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            if (t.Data != null) w.Write(t.Data);
            else
            {
                w.Flush();
                long before = stream.Position;
                t.Producer!(stream);
                long written = stream.Position - before;
                if (written != t.Bytes)
                    throw new InvalidOperationException($"tensor '{t.Name}' producer wrote {written} bytes, expected {t.Bytes}");
            }
            WritePadding(w, t.Bytes);
        }
        w.Flush();
    }

    private long Pad(long n) => n + (Alignment - n % Alignment) % Alignment;

    private void WritePadding(BinaryWriter w, long written)
    {
        long pad = (Alignment - written % Alignment) % Alignment;
        for (long i = 0; i < pad; i++) w.Write((byte)0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Value)
        {
            case byte x: w.Write(x); return;
            case sbyte x: w.Write(x); return;
            case ushort x: w.Write(x); return;
            case short x: w.Write(x); return;
            case uint x: w.Write(x); return;
            case int x: w.Write(x); return;
            case float x: w.Write(x); return;
            case bool x: w.Write((byte)(x ? 1 : 0)); return;
            case string x: WriteString(w, x); return;
            case ulong x: w.Write(x); return;
            case long x: w.Write(x); return;
            case double x: w.Write(x); return;
        }

        var array = (Array)v.Value;
        w.Write((uint)v.ElementType!.Value);
        w.Write((ulong)array.Length);
        switch (v.Value)
        {
            case byte[] a: w.Write(a); break;
            case sbyte[] a: foreach (sbyte x in a) w.Write(x); break;
            case ushort[] a: foreach (ushort x in a) w.Write(x); break;
            case short[] a: foreach (short x in a) w.Write(x); break;
            case uint[] a: foreach (uint x in a) w.Write(x); break;
            case int[] a: foreach (int x in a) w.Write(x); break;
            case float[] a: foreach (float x in a) w.Write(x); break;
            case bool[] a: foreach (bool x in a) w.Write((byte)(x ? 1 : 0)); break;
            case string[] a: foreach (string x in a) WriteString(w, x); break;
            case ulong[] a: foreach (ulong x in a) w.Write(x); break;
            case long[] a: foreach (long x in a) w.Write(x); break;
            case double[] a: foreach (double x in a) w.Write(x); break;
            case GgufValue[] a:
                // Nested arrays are written bare (element type, count, data), as gguf-py and ggml do.
                foreach (GgufValue x in a) WriteValue(w, x);
                break;
        }
    }
}
