namespace Retort.Engine.Model;

/// <summary>
/// Fixed-size pages of KV cache memory, each holding <see cref="KvCache.PageSize"/> positions of
/// every layer, handed to caches as their sequences grow (vLLM's paged KV cache, for the CPU).
/// A server's slots share one pool, so memory follows the tokens in use rather than slots times
/// context; a cache of its own gets a private pool sized to its context. Pages are pinned managed
/// arrays: the GC frees them with the pool, and their addresses never move. Pages are only handed to
/// caches (<see cref="KvCache(KvPagePool, int)"/>); a scheduler sees the counts and reserves pages.
/// </summary>
public sealed unsafe class KvPagePool
{
    private readonly object _gate = new();
    private readonly Stack<KvPage> _free = new();
    private int _created;
    private int _inUse;
    private int _reserved;

    public KvPagePool(ModelConfig config, KvCacheType keyType, KvCacheType valueType, int maxPages)
    {
        KvCacheFormat.Check(config, keyType, "--cache-type-k");
        KvCacheFormat.Check(config, valueType, "--cache-type-v");
        if (maxPages < 1) throw new ArgumentOutOfRangeException(nameof(maxPages), "a KV pool needs at least one page");
        Config = config;
        KeyType = keyType;
        ValueType = valueType;
        MaxPages = maxPages;
        KeyRowBytes = KvCacheFormat.RowBytes(keyType, config.HeadDim);
        ValueRowBytes = KvCacheFormat.RowBytes(valueType, config.HeadDim);
        KeyBlockBytes = (long)KvCache.PageSize * KeyRowBytes;
        ValueBlockBytes = (long)KvCache.PageSize * ValueRowBytes;
        long heads = (long)config.LayerCount * config.KvHeadCount;
        ValuesOffset = heads * KeyBlockBytes;
        PageBytes = heads * (KeyBlockBytes + ValueBlockBytes);
    }

    public ModelConfig Config { get; }

    public KvCacheType KeyType { get; }

    public KvCacheType ValueType { get; }

    /// <summary>The most pages the pool hands out at once.</summary>
    public int MaxPages { get; }

    internal int KeyRowBytes { get; }

    internal int ValueRowBytes { get; }

    /// <summary>Bytes of one (layer, KV head) run of keys in a page: PageSize rows.</summary>
    internal long KeyBlockBytes { get; }

    internal long ValueBlockBytes { get; }

    /// <summary>Where the values start in a page (the keys of every layer and head come first).</summary>
    internal long ValuesOffset { get; }

    /// <summary>Bytes of one page: <see cref="KvCache.PageSize"/> positions of every layer's keys and values.</summary>
    public long PageBytes { get; }

    /// <summary>Pages held by caches now.</summary>
    public int InUse
    {
        get { lock (_gate) return _inUse; }
    }

    /// <summary>Pages promised to admitted sequences and not yet handed back (see <see cref="TryReserve"/>).</summary>
    public int Reserved
    {
        get { lock (_gate) return _reserved; }
    }

    /// <summary>Bytes of all pages made so far (in use or free for reuse).</summary>
    public long AllocatedBytes
    {
        get { lock (_gate) return _created * PageBytes; }
    }

    /// <summary>
    /// Promises <paramref name="pages"/> pages to a sequence about to start, if the pool can still
    /// keep every promise it made; a scheduler admits a request only when this succeeds, so a
    /// sequence never runs out of pages half way.
    /// </summary>
    public bool TryReserve(int pages)
    {
        lock (_gate)
        {
            if (pages < 0 || _reserved + pages > MaxPages) return false;
            _reserved += pages;
            return true;
        }
    }

    /// <summary>Gives back pages promised by <see cref="TryReserve"/> (a sequence ended, or a cached prefix was dropped).</summary>
    public void Unreserve(int pages)
    {
        lock (_gate) _reserved = Math.Max(0, _reserved - pages);
    }

    /// <exception cref="RetortException">Every page of the pool is in use.</exception>
    internal KvPage Rent()
    {
        lock (_gate)
        {
            if (_free.TryPop(out var page))
            {
                _inUse++;
                return page;
            }
            if (_created >= MaxPages)
                throw new RetortException($"the KV cache is full: all {MaxPages} pages ({MaxPages * KvCache.PageSize} positions) are in use");
            _created++;
            _inUse++;
        }
        return new KvPage(PageBytes);
    }

    internal void Return(KvPage page)
    {
        lock (_gate)
        {
            _free.Push(page);
            _inUse--;
        }
    }
}
