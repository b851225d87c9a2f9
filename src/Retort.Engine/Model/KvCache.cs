namespace Retort.Engine.Model;

/// <summary>
/// Keys and values of every layer for the positions processed so far, float32,
/// laid out [layer][position][kvHead·headDim]. <see cref="Length"/> positions are valid;
/// truncating keeps a common prefix so a new chat turn only computes its new tokens.
/// </summary>
public sealed class KvCache
{
    private readonly float[][] _keys;
    private readonly float[][] _values;

    public KvCache(ModelConfig config, int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "context must be positive");
        Capacity = capacity;
        RowSize = config.KvHeadCount * config.HeadDim;
        _keys = new float[config.LayerCount][];
        _values = new float[config.LayerCount][];
        for (int l = 0; l < config.LayerCount; l++)
        {
            _keys[l] = new float[(long)capacity * RowSize];
            _values[l] = new float[(long)capacity * RowSize];
        }
    }

    /// <summary>Positions the cache can hold (the context size).</summary>
    public int Capacity { get; }

    /// <summary>Positions currently filled.</summary>
    public int Length { get; internal set; }

    internal int RowSize { get; }

    internal Span<float> Keys(int layer, int position) => _keys[layer].AsSpan(position * RowSize, RowSize);

    internal Span<float> Values(int layer, int position) => _values[layer].AsSpan(position * RowSize, RowSize);

    internal float[] LayerKeys(int layer) => _keys[layer];

    internal float[] LayerValues(int layer) => _values[layer];

    /// <summary>Forgets everything after the first <paramref name="length"/> positions.</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    public void Clear() => Length = 0;
}
