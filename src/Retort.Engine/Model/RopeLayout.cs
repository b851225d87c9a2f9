namespace Retort.Engine.Model;

/// <summary>How the rotary embedding pairs up the dimensions of a head.</summary>
public enum RopeLayout
{
    /// <summary>Dimension i pairs with i + headDim/2 ("rotate half"): Qwen2, and every Hugging Face checkpoint.</summary>
    NeoX,

    /// <summary>Dimension 2i pairs with 2i+1: Llama GGUFs, whose converter permuted the Q/K rows to this order.</summary>
    Interleaved,
}
