using Retort.Engine.Generation;
using Retort.Engine.Loading;

namespace Retort.Server;

/// <summary>
/// Hands out slots: a free slot whose cache shares the longest prefix with the prompt (a returning
/// conversation then only computes its new turn), else a place in a bounded first-in-first-out queue.
/// A prefix counts only when it covers at least half of the slot's cache: every prompt shares the
/// template's opening tokens, and that alone must not make a new conversation evict a cached one
/// when an empty or older slot is free.
/// </summary>
internal sealed class SlotPool
{
    private readonly object _gate = new();
    private readonly Slot[] _slots;
    private readonly LinkedList<TaskCompletionSource<Slot>> _waiters = new();
    private readonly int _queueLength;
    private long _clock;

    public SlotPool(LoadedModel model, int count, int contextSize, int queueLength)
    {
        _slots = new Slot[count];
        for (int i = 0; i < count; i++) _slots[i] = new Slot(i, new Generator(model, contextSize));
        _queueLength = queueLength;
    }

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

    public int Queued
    {
        get
        {
            lock (_gate) return _waiters.Count;
        }
    }

    /// <exception cref="ServerBusyException">No slot is free and the queue is full.</exception>
    public async Task<Slot> AcquireAsync(IReadOnlyList<int> prompt, CancellationToken cancellationToken)
    {
        TaskCompletionSource<Slot> waiter;
        LinkedListNode<TaskCompletionSource<Slot>> node;
        lock (_gate)
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
            if (best != null)
            {
                best.Busy = true;
                best.LastUsed = ++_clock;
                return best;
            }
            if (_waiters.Count >= _queueLength) throw new ServerBusyException();
            waiter = new TaskCompletionSource<Slot>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiters.AddLast(waiter);
        }
        await using var registration = cancellationToken.Register(() =>
        {
            bool removed;
            lock (_gate)
            {
                removed = node.List != null;
                if (removed) _waiters.Remove(node);
            }
            if (removed) waiter.TrySetCanceled(cancellationToken);
        });
        return await waiter.Task.ConfigureAwait(false);
    }

    public void Release(Slot slot)
    {
        TaskCompletionSource<Slot>? next = null;
        lock (_gate)
        {
            if (_waiters.First is { } first)
            {
                // The slot passes straight to the oldest waiter, still marked busy.
                next = first.Value;
                _waiters.RemoveFirst();
                slot.LastUsed = ++_clock;
            }
            else slot.Busy = false;
        }
        next?.TrySetResult(slot);
    }

    /// <summary>Empty slots first, then the least recently used.</summary>
    private static long Rank(Slot slot) => slot.Generator.CachedTokens.Count == 0 ? long.MinValue : slot.LastUsed;

    private static int CommonPrefix(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int n = Math.Min(a.Count, b.Count), i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }
}
