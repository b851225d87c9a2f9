using Retort.Engine.Generation;

namespace Retort.Server;

/// <summary>One sequence the server can generate at a time: a generator whose KV cache takes its pages from the shared pool.</summary>
internal sealed class Slot(int index, Generator generator)
{
    public int Index { get; } = index;

    public Generator Generator { get; } = generator;

    public bool Busy { get; set; }

    /// <summary>When it was last handed out (a counter), to evict the least recently used cache.</summary>
    public long LastUsed { get; set; }

    /// <summary>
    /// Pages of the shared pool promised to this slot: while busy, what its request may grow to (at least what
    /// its cache already holds); while idle, exactly the pages its cached prefix holds, until they are dropped.
    /// </summary>
    public int ReservedPages { get; set; }
}
