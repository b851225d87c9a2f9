using System.Runtime.InteropServices;
using Retort.Engine.Kernels;

namespace Retort.Engine.Model;

/// <summary>
/// Causal grouped-query attention for a batch of rows with <see cref="FlashAttention"/>. Work is
/// split by (query tile, KV head, key chunk): a query tile is up to a few consecutive rows of one
/// sequence (a prompt) or one row (a decode step), with every query head of the KV head's group,
/// so each key and value row is read once per tile. A single decoding sequence has too few tiles
/// to keep every core busy, so its keys are split into chunks whose partial results (running
/// maximum, sum and output) are merged afterwards, as flash-decoding does.
/// </summary>
internal sealed unsafe class AttentionJob : IRangeJob
{
    [ThreadStatic] private static Scratch? t_scratch;

    private float[] _q = [], _output = [];
    private KvCache[] _caches = [];
    private int[] _positions = [];
    private int _layer, _heads, _kvHeads, _headDim, _group, _headsPerItem;
    private float _scale;
    private Item[] _items = new Item[64];
    private int _itemCount;
    private float[] _partials = [];
    private int _partialStride;

    private struct Item
    {
        public int Row0, Rows, KvHead, Head0, HeadCount, KeyBegin, KeyEnd, Partial, Chunks;
    }

    /// <summary>Work items of the last <see cref="Prepare"/>.</summary>
    public int Count => _itemCount;

    public void Prepare(float[] q, float[] output, KvCache[] caches, int[] positions, int rows, int layer, ModelConfig c, int threads)
    {
        (_q, _output, _caches, _positions, _layer) = (q, output, caches, positions, layer);
        (_heads, _kvHeads, _headDim, _group) = (c.HeadCount, c.KvHeadCount, c.HeadDim, c.HeadCount / c.KvHeadCount);
        _scale = 1f / MathF.Sqrt(c.HeadDim);
        int maxQueries = FlashAttention.MaxQueries;
        _headsPerItem = Math.Min(_group, maxQueries);
        int rowsPerTile = Math.Max(1, maxQueries / _headsPerItem);
        int subGroups = (_group + _headsPerItem - 1) / _headsPerItem;

        // Tiles: runs of consecutive positions of one cache.
        _itemCount = 0;
        int tiles = 0;
        for (int i = 0; i < rows; tiles++)
        {
            int end = i + 1;
            while (end < rows && end - i < rowsPerTile && ReferenceEquals(caches[end], caches[i]) && positions[end] == positions[end - 1] + 1) end++;
            i = end;
        }
        int perTile = _kvHeads * subGroups;
        long partialFloats = 0;
        _partialStride = 2 * FlashAttention.PaddedQueries(_headsPerItem) + _headsPerItem * _headDim;
        for (int i = 0; i < rows;)
        {
            int end = i + 1;
            while (end < rows && end - i < rowsPerTile && ReferenceEquals(caches[end], caches[i]) && positions[end] == positions[end - 1] + 1) end++;
            int keys = positions[end - 1] + 1;
            int chunks = end - i == 1 ? ChunksFor(keys, tiles * perTile, threads) : 1;
            for (int h = 0; h < _kvHeads; h++)
            {
                for (int sg = 0; sg < subGroups; sg++)
                {
                    int head0 = h * _group + sg * _headsPerItem;
                    int headCount = Math.Min(_headsPerItem, _group - sg * _headsPerItem);
                    int chunkKeys = (keys + chunks - 1) / chunks;
                    chunkKeys = (chunkKeys + FlashAttention.TileKeys - 1) / FlashAttention.TileKeys * FlashAttention.TileKeys;
                    for (int ck = 0; ck < chunks; ck++)
                    {
                        int begin = ck * chunkKeys, stop = Math.Min(keys, begin + chunkKeys);
                        if (begin >= stop) continue;
                        if (_itemCount == _items.Length) Array.Resize(ref _items, _items.Length * 2);
                        _items[_itemCount++] = new Item
                        {
                            Row0 = i, Rows = end - i, KvHead = h, Head0 = head0, HeadCount = headCount,
                            KeyBegin = begin, KeyEnd = stop, Chunks = chunks,
                            Partial = chunks > 1 ? checked((int)partialFloats) : -1,
                        };
                        if (chunks > 1) partialFloats += _partialStride;
                    }
                }
            }
            i = end;
        }
        if (_partials.Length < partialFloats) _partials = GC.AllocateUninitializedArray<float>((int)partialFloats, pinned: true);
    }

    // A decoding row alone cannot occupy every core: split its keys so there are about eight
    // items per thread, never below a few tiles of keys per chunk.
    private static int ChunksFor(int keys, int tileHeads, int threads)
    {
        int wanted = (8 * threads + tileHeads - 1) / tileHeads;
        int most = Math.Max(1, keys / (8 * FlashAttention.TileKeys));
        return Math.Clamp(wanted, 1, most);
    }

    public void Execute(int begin, int end)
    {
        var scratch = t_scratch ??= new Scratch();
        for (int i = begin; i < end; i++) Run(_items[i], scratch);
    }

    private void Run(in Item item, Scratch scratch)
    {
        int hd = _headDim, qSize = _heads * hd;
        int queries = item.Rows * item.HeadCount;
        int mPad = FlashAttention.PaddedQueries(queries);
        scratch.Ensure(hd, mPad);
        float* qt = scratch.Qt, qpos = scratch.Positions, s = scratch.Scores, corr = scratch.Correction;
        float* mx = scratch.Max, l = scratch.Sum, o = scratch.Output, kbuf = scratch.Keys, vbuf = scratch.Values;

        // Few query vectors (a decode step) go row by row, more (a prompt tile) transposed: see FlashAttention.
        bool byRows = FlashAttention.PrefersRows(queries, hd);
        new Span<float>(qt, hd * mPad).Clear();
        int minPosition = int.MaxValue;
        fixed (float* qAll = _q)
        {
            for (int r = 0; r < item.Rows; r++)
            {
                int row = item.Row0 + r;
                minPosition = Math.Min(minPosition, _positions[row]);
                for (int g = 0; g < item.HeadCount; g++)
                {
                    int lane = r * item.HeadCount + g;
                    float* src = qAll + (long)row * qSize + (long)(item.Head0 + g) * hd;
                    if (byRows)
                        for (int d = 0; d < hd; d++) qt[(long)lane * hd + d] = src[d] * _scale;
                    else
                        for (int d = 0; d < hd; d++) qt[d * mPad + lane] = src[d] * _scale;
                    qpos[lane] = _positions[row];
                }
            }
        }
        for (int lane = queries; lane < mPad; lane++) qpos[lane] = -1;

        FlashAttention.Begin(mx, l, o, queries, mPad, hd);
        var cache = _caches[item.Row0];
        var keyType = cache.KeyType;
        var valueType = cache.ValueType;
        int keyRowBytes = cache.Pool.KeyRowBytes, valueRowBytes = cache.Pool.ValueRowBytes;
        for (int p = item.KeyBegin; p < item.KeyEnd; p += FlashAttention.TileKeys)
        {
            int t = Math.Min(FlashAttention.TileKeys, item.KeyEnd - p);
            int page = p / KvCache.PageSize, inPage = p % KvCache.PageSize;
            byte* kRows = cache.KeyRows(_layer, item.KvHead, page) + (long)inPage * keyRowBytes;
            byte* vRows = cache.ValueRows(_layer, item.KvHead, page) + (long)inPage * valueRowBytes;
            float* k = kbuf, v = vbuf;
            if (KvRowDecoder.IsFloat32(keyType)) k = (float*)kRows;
            else KvRowDecoder.Decode(keyType, kRows, keyRowBytes, t, hd, kbuf);
            if (KvRowDecoder.IsFloat32(valueType)) v = (float*)vRows;
            else KvRowDecoder.Decode(valueType, vRows, valueRowBytes, t, hd, vbuf);
            bool causal = p + t - 1 > minPosition;
            if (byRows) FlashAttention.TileRows(qt, qpos, queries, mPad, hd, k, v, t, p, causal, mx, l, o, s, corr);
            else FlashAttention.Tile(qt, qpos, queries, mPad, hd, k, v, t, p, causal, mx, l, o, s, corr);
        }

        if (item.Partial >= 0)
        {
            // m, l and the unnormalized output of this chunk, for Merge.
            fixed (float* part = &_partials[item.Partial])
            {
                Buffer.MemoryCopy(mx, part, mPad * 4L, queries * 4L);
                Buffer.MemoryCopy(l, part + mPad, mPad * 4L, queries * 4L);
                Buffer.MemoryCopy(o, part + 2 * mPad, (long)queries * hd * 4, (long)queries * hd * 4);
            }
            return;
        }
        FlashAttention.Finish(l, o, queries, hd);
        WriteOutput(item, o);
    }

    private void WriteOutput(in Item item, float* o)
    {
        int hd = _headDim, qSize = _heads * hd;
        fixed (float* outAll = _output)
        {
            for (int r = 0; r < item.Rows; r++)
            {
                for (int g = 0; g < item.HeadCount; g++)
                {
                    float* dst = outAll + (long)(item.Row0 + r) * qSize + (long)(item.Head0 + g) * hd;
                    Buffer.MemoryCopy(o + (long)(r * item.HeadCount + g) * hd, dst, hd * 4L, hd * 4L);
                }
            }
        }
    }

    /// <summary>Combines the key chunks of split items: o = Σ_c e^(m_c − M)·o_c / Σ_c e^(m_c − M)·l_c.</summary>
    public void Merge()
    {
        int hd = _headDim;
        var scratch = t_scratch ??= new Scratch();
        for (int i = 0; i < _itemCount;)
        {
            var first = _items[i];
            if (first.Partial < 0)
            {
                i++;
                continue;
            }
            int chunks = 1;
            while (i + chunks < _itemCount && _items[i + chunks].Partial >= 0 && _items[i + chunks].Row0 == first.Row0
                   && _items[i + chunks].Head0 == first.Head0 && _items[i + chunks].KeyBegin > _items[i + chunks - 1].KeyBegin) chunks++;
            int queries = first.Rows * first.HeadCount;
            int mPad = FlashAttention.PaddedQueries(queries);
            scratch.Ensure(hd, mPad);
            float* o = scratch.Output;
            fixed (float* parts = _partials)
            {
                for (int qv = 0; qv < queries; qv++)
                {
                    float best = FlashAttention.NoScore;
                    for (int c = 0; c < chunks; c++) best = MathF.Max(best, parts[_items[i + c].Partial + qv]);
                    float sum = 0;
                    float* oq = o + (long)qv * hd;
                    new Span<float>(oq, hd).Clear();
                    for (int c = 0; c < chunks; c++)
                    {
                        float* part = parts + _items[i + c].Partial;
                        float w = MathF.Exp(part[qv] - best);
                        sum += w * part[mPad + qv];
                        float* po = part + 2 * mPad + (long)qv * hd;
                        for (int d = 0; d < hd; d++) oq[d] += w * po[d];
                    }
                    float inv = sum > 0 ? 1f / sum : 0f;
                    for (int d = 0; d < hd; d++) oq[d] *= inv;
                }
            }
            WriteOutput(first, o);
            i += chunks;
        }
    }

    /// <summary>A thread's buffers for one work item, grown to the largest head dimension seen.</summary>
    private sealed class Scratch
    {
        private float[] _memory = [];
        private int _hd, _mPad;

        public float* Qt, Positions, Scores, Correction, Max, Sum, Output, Keys, Values;

        public void Ensure(int hd, int mPad)
        {
            if (hd <= _hd && mPad <= _mPad) return;
            _hd = Math.Max(hd, _hd);
            _mPad = Math.Max(mPad, _mPad);
            int tk = FlashAttention.TileKeys;
            long floats = (long)_hd * _mPad + 4L * _mPad + (long)tk * _mPad + (long)_mPad * _hd + 2L * tk * _hd + 16 * 9;
            _memory = GC.AllocateUninitializedArray<float>(checked((int)floats), pinned: true);
            float* p = (float*)Marshal.UnsafeAddrOfPinnedArrayElement(_memory, 0);
            // Each buffer starts on a 64-byte boundary.
            float* Take(long n)
            {
                p = (float*)(((nint)p + 63) & ~(nint)63);
                float* r = p;
                p += n;
                return r;
            }
            Qt = Take((long)_hd * _mPad);
            Positions = Take(_mPad);
            Scores = Take((long)tk * _mPad);
            Correction = Take(_mPad);
            Max = Take(_mPad);
            Sum = Take(_mPad);
            Output = Take((long)_mPad * _hd);
            Keys = Take((long)tk * _hd);
            Values = Take((long)tk * _hd);
        }
    }
}
