using System.Collections.Concurrent;

namespace Retort.Engine.Tokenization;

/// <summary>
/// Byte-level BPE over one pre-token: start from single characters and repeatedly merge the
/// adjacent pair with the lowest merge rank (leftmost first on ties), as Hugging Face does.
/// </summary>
internal sealed class BpeModel
{
    private const int CacheLimit = 50_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<long, (int Rank, int Id)> _merges;
    private readonly bool _ignoreMerges;
    private readonly int[] _charIds; // id of each single-char token for chars < 512, or -1
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private int _cacheCount; // ConcurrentDictionary.Count takes every lock, far too slow per word

    public BpeModel(Dictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges, bool ignoreMerges)
    {
        _vocab = vocab;
        _ignoreMerges = ignoreMerges;
        _merges = new Dictionary<long, (int Rank, int Id)>(PairComparer.Instance);
        int rank = 0;
        foreach (var (left, right) in merges)
        {
            // A merge whose parts or result are missing from the vocabulary can never apply.
            if (vocab.TryGetValue(left, out int a) && vocab.TryGetValue(right, out int b)
                && vocab.TryGetValue(string.Concat(left, right), out int merged))
            {
                _merges.TryAdd(Key(a, b), (rank, merged));
            }
            rank++;
        }
        _charIds = new int[512];
        Array.Fill(_charIds, -1);
        foreach (var (token, id) in vocab)
        {
            if (token.Length == 1 && token[0] < 512 && _charIds[token[0]] < 0) _charIds[token[0]] = id;
        }
    }

    public int MergeCount => _merges.Count;

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    /// <summary>Appends the ids of <paramref name="word"/>, a pre-token already in byte-level form.</summary>
    public void Encode(string word, List<int> output)
    {
        if (_cache.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        int[] ids = EncodeUncached(word);
        if (Volatile.Read(ref _cacheCount) < CacheLimit && _cache.TryAdd(word, ids)) Interlocked.Increment(ref _cacheCount);
        output.AddRange(ids);
    }

    private int[] EncodeUncached(string word)
    {
        if (_ignoreMerges && _vocab.TryGetValue(word, out int whole)) return [whole];

        int n = word.Length;
        var ids = new int[n];
        var next = new int[n];
        var prev = new int[n];
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            char c = word[i];
            int id = c < 512 ? _charIds[c] : -1;
            if (id < 0 && !_vocab.TryGetValue(c.ToString(), out id))
            {
                // No unknown token in byte-level vocabularies: Hugging Face drops the character.
                continue;
            }
            ids[count] = id;
            prev[count] = count - 1;
            next[count] = count + 1;
            count++;
        }
        if (count == 0) return [];
        next[count - 1] = -1;
        if (count == 1) return [ids[0]];

        var alive = new bool[count];
        Array.Fill(alive, true, 0, count);
        var queue = new PriorityQueue<(int Pos, int Right, int Left, int RightId), (int Rank, int Pos)>();
        for (int i = 0; i + 1 < count; i++) Push(queue, ids, i, i + 1);

        while (queue.TryDequeue(out var item, out _))
        {
            int pos = item.Pos, right = item.Right;
            // Stale entries: either side was merged away or changed since this pair was queued.
            if (!alive[pos] || !alive[right] || next[pos] != right || ids[pos] != item.Left || ids[right] != item.RightId) continue;
            ids[pos] = _merges[Key(item.Left, item.RightId)].Id;
            alive[right] = false;
            int after = next[right];
            next[pos] = after;
            if (after >= 0) prev[after] = pos;
            if (prev[pos] >= 0) Push(queue, ids, prev[pos], pos);
            if (after >= 0) Push(queue, ids, pos, after);
        }

        var result = new List<int>(count);
        for (int i = 0; i >= 0; i = next[i]) result.Add(ids[i]);
        return [.. result];
    }

    private void Push(PriorityQueue<(int, int, int, int), (int, int)> queue, int[] ids, int left, int right)
    {
        if (_merges.TryGetValue(Key(ids[left], ids[right]), out var m)) queue.Enqueue((left, right, ids[left], ids[right]), (m.Rank, left));
    }

    // long.GetHashCode is (high ^ low), which collides for every pair with the same XOR of ids.
    private sealed class PairComparer : IEqualityComparer<long>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals(long x, long y) => x == y;

        public int GetHashCode(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> 32);
    }
}
