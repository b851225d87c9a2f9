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

    /// <summary>
    /// The part of ggml's Q4_K and Q5_K reference quantizers they share: per sub-block of 32, a
    /// weighted search for scale and min (levels 0..nmax), both stored as 6 bits against their maxima
    /// (d, dmin and the 12 packed bytes written to block[0..16)), then every element re-quantized
    /// with the stored values into levels.
    /// </summary>
    public static void QuantizeLevels(ReadOnlySpan<float> x, Span<byte> block, int nmax, float rmin, float rdelta, int nstep, Span<byte> levels)
    {
        Span<byte> laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            ReadOnlySpan<float> xj = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int i = 0; i < 32; i++) sumX2 += xj[i] * xj[i];
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int i = 0; i < 32; i++) weights[i] = avX + MathF.Abs(xj[i]);
            scales[j] = KQuantMath.MakeQkx2Quants(nmax, xj, weights, levels.Slice(32 * j, 32), out mins[j], laux, rmin, rdelta, nstep);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        Span<byte> packed = block.Slice(4, 12);
        Pack(scales, mins, maxScale, maxMin, packed);
        Fp16.WriteHalf(block, 0, maxScale / 63f);
        Fp16.WriteHalf(block, 2, maxMin / 63f);
        float d = Fp16.ReadHalf(block, 0), dmin = Fp16.ReadHalf(block, 2);
        for (int j = 0; j < 8; j++)
        {
            var (sc, m) = Get(j, packed);
            float dj = d * sc;
            if (dj == 0) continue;
            float dm = dmin * m;
            for (int i = 0; i < 32; i++)
                levels[32 * j + i] = (byte)Math.Max(0, Math.Min(nmax, KQuantMath.NearestInt((x[32 * j + i] + dm) / dj)));
        }
    }
}
