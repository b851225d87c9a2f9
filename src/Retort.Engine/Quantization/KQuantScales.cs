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

    /// <summary>
    /// Quantizes 8 float scales and mins to 6 bits against their maxima (ggml rounds to nearest,
    /// clamps to 63) and packs them into 12 bytes.
    /// </summary>
    public static void Pack(ReadOnlySpan<float> scales, ReadOnlySpan<float> mins, float maxScale, float maxMin, Span<byte> packed)
    {
        packed.Clear();
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++)
        {
            int ls = Math.Min(63, (int)(byte)KQuantMath.NearestInt(invScale * scales[j]));
            int lm = Math.Min(63, (int)(byte)KQuantMath.NearestInt(invMin * mins[j]));
            if (j < 4)
            {
                packed[j] = (byte)ls;
                packed[j + 4] = (byte)lm;
            }
            else
            {
                packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte)((ls >> 4) << 6);
                packed[j] |= (byte)((lm >> 4) << 6);
            }
        }
    }
}
