using Retort.Engine.Generation;

namespace Retort.Server;

/// <summary>One sequence the server can generate at a time: a generator with its own KV cache.</summary>
internal sealed class Slot(int index, Generator generator)
{
    public int Index { get; } = index;

    public Generator Generator { get; } = generator;

    public bool Busy { get; set; }

    /// <summary>When it was last handed out (a counter), to evict the least recently used cache.</summary>
    public long LastUsed { get; set; }
}
