namespace Retort.Engine.Model;

/// <summary>How a <see cref="KvCache"/> stores keys and values.</summary>
public enum KvCacheType
{
    /// <summary>float32: exact (the default; what the reference comparisons hold).</summary>
    F32,

    /// <summary>IEEE half: half the memory and attention bandwidth, ~3 significant digits (llama.cpp's default).</summary>
    F16,
}
