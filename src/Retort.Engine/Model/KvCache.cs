namespace Retort.Engine.Model;

/// <summary>
/// Keys and values of every layer for the positions processed so far, float32 or f16
/// (<see cref="KvCacheType"/>), laid out [layer][position][kvHead·headDim]. <see cref="Length"/>
/// positions are valid; truncating keeps a common prefix so a new chat turn only computes its new tokens.
/// </summary>
public sealed class KvCache
{
    private readonly float[][] _keys = [];
    private readonly float[][] _values = [];
    private readonly ushort[][] _keys16 = [];
    private readonly ushort[][] _values16 = [];

    public KvCache(ModelConfig config, int capacity, KvCacheType type = KvCacheType.F32)
    {
        if (capacity <= 0) throw new RetortException($"expected a context size of at least 1 token, found {capacity}");
        Capacity = capacity;
        Type = type;
        RowSize = config.KvHeadCount * config.HeadDim;
        long length = (long)capacity * RowSize;
        CheckFits(config, capacity, length, type);
        if (type == KvCacheType.F16)
        {
            _keys16 = new ushort[config.LayerCount][];
            _values16 = new ushort[config.LayerCount][];
            for (int l = 0; l < config.LayerCount; l++)
            {
                _keys16[l] = new ushort[length];
                _values16[l] = new ushort[length];
            }
            return;
        }
        _keys = new float[config.LayerCount][];
        _values = new float[config.LayerCount][];
        for (int l = 0; l < config.LayerCount; l++)
        {
            _keys[l] = new float[length];
            _values[l] = new float[length];
        }
    }

    /// <summary>
    /// Refuses a cache the machine cannot hold before allocating it, instead of letting new float[n]
    /// fail with "Array dimensions exceeded supported range" or run out of memory part-way.
    /// </summary>
    private static void CheckFits(ModelConfig config, int capacity, long perLayer, KvCacheType type)
    {
        int elementBytes = type == KvCacheType.F16 ? sizeof(ushort) : sizeof(float);
        long bytes = 2L * config.LayerCount * perLayer * elementBytes;
        string needs = $"a context of {capacity} tokens needs a {Size(bytes)} {type} KV cache " +
                       $"({config.LayerCount} layers × keys and values × {config.KvHeadCount * config.HeadDim} per token)";
        if (perLayer > Array.MaxLength)
            throw new RetortException($"{needs}, whose layers are larger than an array can be ({Array.MaxLength} elements): choose a smaller context (--ctx)");
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available)
            throw new RetortException($"{needs}, more than the {Size(available)} of memory this machine has: choose a smaller context (--ctx)");
    }

    private static string Size(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.#} GiB" : $"{bytes / (double)(1L << 20):0.#} MiB";

    public KvCacheType Type { get; }

    /// <summary>Positions the cache can hold (the context size).</summary>
    public int Capacity { get; }

    /// <summary>Positions currently filled.</summary>
    public int Length { get; internal set; }

    internal int RowSize { get; }

    /// <summary>Writes the key and value rows of one position of one layer (rounded to f16 for an f16 cache).</summary>
    internal void Store(int layer, int position, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        int offset = position * RowSize;
        if (Type == KvCacheType.F32)
        {
            key[..RowSize].CopyTo(_keys[layer].AsSpan(offset, RowSize));
            value[..RowSize].CopyTo(_values[layer].AsSpan(offset, RowSize));
            return;
        }
        Span<ushort> k = _keys16[layer].AsSpan(offset, RowSize), v = _values16[layer].AsSpan(offset, RowSize);
        for (int i = 0; i < RowSize; i++)
        {
            k[i] = BitConverter.HalfToUInt16Bits((Half)key[i]);
            v[i] = BitConverter.HalfToUInt16Bits((Half)value[i]);
        }
    }

    internal float[] LayerKeys(int layer) => _keys[layer];

    internal float[] LayerValues(int layer) => _values[layer];

    internal ushort[] LayerKeysF16(int layer) => _keys16[layer];

    internal ushort[] LayerValuesF16(int layer) => _values16[layer];

    /// <summary>Forgets everything after the first <paramref name="length"/> positions.</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    public void Clear() => Length = 0;
}
