using Retort.Engine.Quantization;

namespace Retort.Engine.Model;

/// <summary>
/// Keys and values of every layer for the positions processed so far, each stored as its own
/// <see cref="KvCacheType"/>. Memory comes in pages of <see cref="PageSize"/> positions, taken
/// from a <see cref="KvPagePool"/> as the sequence grows, so a 32k context costs only the
/// positions used. In a page, each (layer, KV head) has its rows side by side, so attention
/// streams one head's keys and values as contiguous memory. <see cref="Length"/> positions are
/// valid; truncating keeps a common prefix so a new chat turn only computes its new tokens.
/// </summary>
public sealed unsafe class KvCache
{
    /// <summary>Positions per page (a multiple of every attention tile).</summary>
    public const int PageSize = 256;

    private readonly KvPagePool _pool;
    private readonly KvPage?[] _pages;
    private int _pageCount;

    /// <summary>A cache of its own for <paramref name="capacity"/> positions, keys and values stored as <paramref name="type"/>.</summary>
    public KvCache(ModelConfig config, int capacity, KvCacheType type = KvCacheType.F32)
        : this(config, capacity, type, type)
    {
    }

    /// <summary>A cache of its own with keys stored as <paramref name="keyType"/> and values as <paramref name="valueType"/>.</summary>
    public KvCache(ModelConfig config, int capacity, KvCacheType keyType, KvCacheType valueType)
        : this(new KvPagePool(config, keyType, valueType, PagesFor(capacity)), capacity)
    {
    }

    /// <summary>A cache whose pages come from a shared <paramref name="pool"/> (a server's slots).</summary>
    public KvCache(KvPagePool pool, int capacity)
    {
        if (capacity <= 0) throw new RetortException($"expected a context size of at least 1 token, found {capacity}");
        CheckFits(pool, capacity);
        _pool = pool;
        Capacity = capacity;
        _pages = new KvPage?[PagesFor(capacity)];
        RowSize = pool.Config.KvHeadCount * pool.Config.HeadDim;
    }

    /// <summary>
    /// Refuses a context the machine could never hold when full, up front, rather than failing
    /// part-way through a long generation when a page cannot be allocated.
    /// </summary>
    private static void CheckFits(KvPagePool pool, int capacity)
    {
        var c = pool.Config;
        long bytes = KvCacheFormat.BytesPerToken(c, pool.KeyType, pool.ValueType) * capacity;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available)
            throw new RetortException($"a context of {capacity} tokens needs a {ByteSize(bytes)} KV cache ({KvCacheFormat.Name(pool.KeyType)} keys, " +
                                      $"{KvCacheFormat.Name(pool.ValueType)} values), more than the {ByteSize(available)} of memory this machine has: choose a smaller context (--ctx)");
    }

    /// <summary>Bytes as GiB or MiB, for messages.</summary>
    internal static string ByteSize(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.##} GiB" : $"{bytes / (double)(1L << 20):0.#} MiB";

    /// <summary>Pages needed for <paramref name="positions"/> positions.</summary>
    public static int PagesFor(int positions) => (int)(((long)Math.Max(positions, 1) + PageSize - 1) / PageSize);

    public KvCacheType KeyType => _pool.KeyType;

    public KvCacheType ValueType => _pool.ValueType;

    /// <summary>Positions the cache can hold (the context size).</summary>
    public int Capacity { get; }

    /// <summary>Positions currently filled.</summary>
    public int Length { get; internal set; }

    /// <summary>Bytes of the pages this cache holds now.</summary>
    public long AllocatedBytes => _pageCount * _pool.PageBytes;

    /// <summary>Where its pages come from (its own pool unless it was made with a shared one).</summary>
    public KvPagePool Pool => _pool;

    /// <summary>Pages this cache holds now (kept by <see cref="Truncate"/>, given back by <see cref="Release"/>).</summary>
    public int PageCount => _pageCount;

    /// <summary>Floats of one position's keys (or values) over all KV heads, as the forward pass produces them.</summary>
    internal int RowSize { get; }

    internal int HeadDim => _pool.Config.HeadDim;

    /// <summary>Writes the key and value rows of one position of one layer, converted to the cache's types.</summary>
    internal void Store(int layer, int position, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        if ((uint)position >= (uint)Capacity) throw new ArgumentOutOfRangeException(nameof(position));
        var page = _pages[position / PageSize] ??= Rent();
        int hd = HeadDim, inPage = position % PageSize;
        var kType = KvCacheFormat.BlockType(_pool.KeyType);
        var vType = KvCacheFormat.BlockType(_pool.ValueType);
        for (int h = 0; h < _pool.Config.KvHeadCount; h++)
        {
            byte* k = KeyBlock(page, layer, h) + (long)inPage * _pool.KeyRowBytes;
            byte* v = ValueBlock(page, layer, h) + (long)inPage * _pool.ValueRowBytes;
            Quantize.Row(kType, key.Slice(h * hd, hd), new Span<byte>(k, _pool.KeyRowBytes));
            Quantize.Row(vType, value.Slice(h * hd, hd), new Span<byte>(v, _pool.ValueRowBytes));
        }
    }

    private KvPage Rent()
    {
        _pageCount++;
        return _pool.Rent();
    }

    /// <summary>The PageSize key rows of (layer, KV head) in page <paramref name="pageIndex"/>, which must hold data.</summary>
    internal byte* KeyRows(int layer, int kvHead, int pageIndex) => KeyBlock(_pages[pageIndex]!, layer, kvHead);

    internal byte* ValueRows(int layer, int kvHead, int pageIndex) => ValueBlock(_pages[pageIndex]!, layer, kvHead);

    private byte* KeyBlock(KvPage page, int layer, int kvHead) =>
        page.Base + ((long)layer * _pool.Config.KvHeadCount + kvHead) * _pool.KeyBlockBytes;

    private byte* ValueBlock(KvPage page, int layer, int kvHead) =>
        page.Base + _pool.ValuesOffset + ((long)layer * _pool.Config.KvHeadCount + kvHead) * _pool.ValueBlockBytes;

    /// <summary>The key (or value) row of one position of one head, as floats (for tests and references).</summary>
    internal void ReadRow(int layer, int kvHead, int position, bool values, Span<float> row)
    {
        int pageIndex = position / PageSize, inPage = position % PageSize;
        if ((uint)position >= (uint)Length && _pages[pageIndex] == null) throw new ArgumentOutOfRangeException(nameof(position));
        var type = values ? _pool.ValueType : _pool.KeyType;
        int rowBytes = values ? _pool.ValueRowBytes : _pool.KeyRowBytes;
        byte* rows = values ? ValueRows(layer, kvHead, pageIndex) : KeyRows(layer, kvHead, pageIndex);
        Dequantize.Row(KvCacheFormat.BlockType(type), new ReadOnlySpan<byte>(rows + (long)inPage * rowBytes, rowBytes), row);
    }

    /// <summary>Forgets everything after the first <paramref name="length"/> positions (their pages stay for reuse).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    public void Clear() => Length = 0;

    /// <summary>Empties the cache and gives its pages back to the pool (a finished server sequence).</summary>
    public void Release()
    {
        Length = 0;
        for (int i = 0; i < _pages.Length; i++)
        {
            if (_pages[i] is not { } page) continue;
            _pool.Return(page);
            _pages[i] = null;
        }
        _pageCount = 0;
    }
}
