namespace Retort.Engine.Model;

/// <summary>How a <see cref="KvCache"/> stores keys or values (chosen separately for each), as llama.cpp's -ctk/-ctv do.</summary>
public enum KvCacheType
{
    /// <summary>float32: exact, 4 bytes an element.</summary>
    F32,

    /// <summary>IEEE half: 2 bytes an element, about 3 significant digits (llama.cpp's default).</summary>
    F16,

    /// <summary>bfloat16: 2 bytes an element, float32's range with 2-3 significant digits.</summary>
    BF16,

    /// <summary>ggml's Q8_0 blocks: 32 elements in 34 bytes (an f16 scale and 32 signed bytes).</summary>
    Q8_0,

    /// <summary>ggml's Q4_0 blocks: 32 elements in 18 bytes (an f16 scale and 32 nibbles).</summary>
    Q4_0,
}
