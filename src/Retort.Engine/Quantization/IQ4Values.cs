namespace Retort.Engine.Quantization;

/// <summary>
/// The 16 non-linear levels shared by IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl): a 4-bit index
/// selects one, times the block's scale. Denser near zero, where weights concentrate.
/// </summary>
internal static class IQ4Values
{
    public static ReadOnlySpan<sbyte> Levels => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
}
