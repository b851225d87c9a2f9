namespace Retort.Engine.Model;

/// <summary>One page of KV memory: a pinned array and its 64-byte aligned start.</summary>
internal sealed unsafe class KvPage
{
    private const int Alignment = 64;

    // Kept only so the pinned array lives as long as the page.
    private readonly byte[] _storage;

    public KvPage(long bytes)
    {
        if (bytes > Array.MaxLength - Alignment)
            throw new RetortException($"a KV cache page of {bytes:N0} bytes is larger than one array can hold");
        _storage = GC.AllocateUninitializedArray<byte>((int)bytes + Alignment, pinned: true);
        fixed (byte* p = _storage)
            Base = (byte*)(((nint)p + Alignment - 1) & ~(nint)(Alignment - 1));
    }

    public byte* Base { get; }
}
