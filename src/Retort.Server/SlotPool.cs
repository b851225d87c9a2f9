using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Model;

namespace Retort.Server;

/// <summary>
/// Admission: hands out a slot together with the KV pages its request may grow to, from one pool every
/// slot's cache shares, else a place in a bounded first-in-first-out queue. A slot is chosen as before: a
/// free slot whose cache shares the longest prefix with the prompt (a returning conversation then only
/// computes its new turn), else an empty or the least recently used one. A prefix counts only when it
/// covers at least half of the slot's cache: every prompt shares the template's opening tokens, and that
/// alone must not make a new conversation evict a cached one when an empty or older slot is free.
/// </summary>
/// <remarks>
/// Pages are reserved up front for the prompt and max_tokens (at most the context), so a running sequence
/// never finds the pool empty half way. An idle slot's cached prefix stays reserved too (its pages are in
/// use), but it can be dropped, least recently used first, when a request needs the pages; so the pool's
/// Reserved is always the running requests' promises plus the idle caches' pages, and InUse never exceeds
/// it. The queue is strict FIFO: a large request at its head is not overtaken by small ones behind it.
/// </remarks>
internal sealed class SlotPool
{
    private readonly object _gate = new();
    private readonly Slot[] _slots;
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly int _queueLength;
    private long _clock;

    public SlotPool(LoadedModel model, int count, int contextSize, KvPagePool pages, int queueLength)
    {
        Pages = pages;
        ContextSize = contextSize;
        _slots = new Slot[count];
        for (int i = 0; i < count; i++) _slots[i] = new Slot(i, new Generator(model, new KvCache(pages, contextSize)));
        _queueLength = queueLength;
    }

    /// <summary>The KV pages every slot's cache takes from.</summary>
    public KvPagePool Pages { get; }

    public int ContextSize { get; }

    public int Count => _slots.Length;

    public IReadOnlyList<Slot> Slots => _slots;

    public int Busy
    {
        get
        {
            lock (_gate) return _slots.Count(s => s.Busy);
        }
    }

    /// <summary>Positions filled in the slots' KV caches, and their total capacity.</summary>
    public (long Used, long Capacity) CacheUse
    {
        get
        {
            // Read without the lock: a busy slot's length moves under the scheduler anyway.
            long used = 0, capacity = 0;
            foreach (var s in _slots)
            {
                used += s.Generator.Cache.Length;
                capacity += s.Generator.Cache.Capacity;
            }
            return (used, capacity);
        }
    }

    /// <summary>Pages held by idle slots' cached prefixes (reserved, but dropped when a request needs them).</summary>
    public int CachedPages
    {
        get
        {
            lock (_gate) return _slots.Where(s => !s.Busy).Sum(s => s.ReservedPages);
        }
    }

    public int Queued
    {
        get
        {
            lock (_gate) return _waiters.Count;
        }
    }

    /// <summary>Pages a request may grow to: its prompt and max_tokens answer, at most the context.</summary>
    public int PagesNeeded(int promptTokens, int maxTokens) => KvCache.PagesFor((int)Math.Min((long)promptTokens + Math.Max(0, maxTokens), ContextSize));

    /// <summary>Waits (in the queue) for a free slot and <paramref name="pages"/> pages of the pool, then holds both.</summary>
    /// <exception cref="ServerBusyException">The request cannot start now and the queue is full.</exception>
    public async Task<Slot> AcquireAsync(IReadOnlyList<int> prompt, int pages, CancellationToken cancellationToken)
    {
        if (pages > Pages.MaxPages) throw new ArgumentOutOfRangeException(nameof(pages), "more pages than the pool holds: the caller refuses such a request");
        var waiter = new Waiter(prompt, pages);
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            // Nobody is overtaken: with others waiting, a newcomer queues even if it would fit.
            if (_waiters.Count == 0 && TryAdmit(prompt, pages) is { } slot) return slot;
            if (_waiters.Count >= _queueLength) throw new ServerBusyException();
            node = _waiters.AddLast(waiter);
        }
        await using var registration = cancellationToken.Register(() =>
        {
            List<(Waiter, Slot)> admitted;
            lock (_gate)
            {
                if (node.List == null) return;
                _waiters.Remove(node);
                // The one that left may have been what held the others back.
                admitted = Pump();
            }
            waiter.TrySetCanceled(cancellationToken);
            Hand(admitted);
        });
        return await waiter.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Frees a slot whose sequence ended: its cache keeps the conversation for the next turn (and those pages
    /// stay reserved), the rest of its promise goes back, and waiting requests that now fit are admitted.
    /// </summary>
    /// <param name="keepCache">False for a sequence that failed: what its cache holds is not to be trusted.</param>
    public void Release(Slot slot, bool keepCache = true)
    {
        List<(Waiter, Slot)> admitted;
        lock (_gate)
        {
            if (!keepCache) slot.Generator.ReleaseCache();
            int held = slot.Generator.Cache.PageCount;
            if (slot.ReservedPages > held) Pages.Unreserve(slot.ReservedPages - held);
            slot.ReservedPages = held;
            slot.Busy = false;
            admitted = Pump();
        }
        Hand(admitted);
    }

    /// <summary>Drops every idle slot's cached prefix, giving its pages back; returns the pages freed.</summary>
    public int DropCachedPrefixes()
    {
        lock (_gate)
        {
            int freed = 0;
            foreach (var s in _slots)
            {
                if (s.Busy) continue;
                freed += s.ReservedPages;
                Drop(s);
            }
            return freed;
        }
    }

    /// <summary>Admits waiters from the head of the queue while they fit. Under the lock; the caller hands them their slots after it.</summary>
    private List<(Waiter, Slot)> Pump()
    {
        var admitted = new List<(Waiter, Slot)>();
        while (_waiters.First is { } first && TryAdmit(first.Value.Prompt, first.Value.Pages) is { } slot)
        {
            _waiters.RemoveFirst();
            admitted.Add((first.Value, slot));
        }
        return admitted;
    }

    private static void Hand(List<(Waiter, Slot)> admitted)
    {
        foreach (var (waiter, slot) in admitted) waiter.TrySetResult(slot);
    }

    /// <summary>A free slot with its pages reserved, dropping idle caches if that makes room; null when it cannot start now. Under the lock.</summary>
    private Slot? TryAdmit(IReadOnlyList<int> prompt, int pages)
    {
        Slot? best = null, oldest = null;
        int bestPrefix = 0;
        foreach (var slot in _slots)
        {
            if (slot.Busy) continue;
            var cached = slot.Generator.CachedTokens;
            int prefix = CommonPrefix(cached, prompt);
            if (prefix > bestPrefix && 2 * prefix >= cached.Count) (best, bestPrefix) = (slot, prefix);
            if (oldest == null || Rank(slot) < Rank(oldest)) oldest = slot;
        }
        best ??= oldest;
        if (best == null) return null;

        // The slot's own cached pages are already reserved; the request may need more than they are.
        int droppable = _slots.Where(s => !s.Busy && s != best).Sum(s => s.ReservedPages);
        int available = Pages.MaxPages - Pages.Reserved + droppable;
        if (Math.Max(pages, best.ReservedPages) - best.ReservedPages > available)
        {
            // A cache longer than this request needs is worth less than running it now.
            if (best.ReservedPages <= pages) return null;
            Drop(best);
        }
        int extra = Math.Max(pages, best.ReservedPages) - best.ReservedPages;
        while (!Pages.TryReserve(extra))
        {
            var victim = _slots.Where(s => !s.Busy && s != best && s.ReservedPages > 0).MinBy(s => s.LastUsed);
            if (victim == null) return null;
            Drop(victim);
        }
        best.ReservedPages += extra;
        best.Busy = true;
        best.LastUsed = ++_clock;
        return best;
    }

    /// <summary>Forgets an idle slot's cached prefix and gives its pages and their reservation back.</summary>
    private void Drop(Slot slot)
    {
        slot.Generator.ReleaseCache();
        Pages.Unreserve(slot.ReservedPages);
        slot.ReservedPages = 0;
    }

    /// <summary>Empty slots first, then the least recently used.</summary>
    private static long Rank(Slot slot) => slot.Generator.CachedTokens.Count == 0 ? long.MinValue : slot.LastUsed;

    private static int CommonPrefix(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int n = Math.Min(a.Count, b.Count), i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    /// <summary>A request in the queue: what it needs, and where its slot is handed over.</summary>
    private sealed class Waiter(IReadOnlyList<int> prompt, int pages) : TaskCompletionSource<Slot>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public IReadOnlyList<int> Prompt { get; } = prompt;

        public int Pages { get; } = pages;
    }
}
