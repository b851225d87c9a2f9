namespace Retort.Engine.Quantization;

/// <summary>
/// The packed 6-bit scales and mins shared by Q4_K and Q5_K: 12 bytes hold 8 (scale, min) pairs.
/// Pairs 0-3 are the low 6 bits of bytes 0-3 (scales) and 4-7 (mins). Pairs 4-7 take their low
/// 4 bits from the nibbles of bytes 8-11 (low nibble scale, high nibble min) and their top 2 bits
/// from the otherwise unused top 2 bits of bytes 0-3 (scales) and 4-7 (mins).
/// </summary>
internal static class KQuantScales
{
    public static (int Scale, int Min) Get(int j, ReadOnlySpan<byte> scales)
    {
        if (j < 4) return (scales[j] & 63, scales[j + 4] & 63);
        int scale = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
        int min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
        return (scale, min);
    }
}
