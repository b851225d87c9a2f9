namespace Retort.Engine.Quantization;

/// <summary>
/// Q4_K: 256 elements in 144 bytes. Layout: half d (0-1), half dmin (2-3), scales[12] (4-15, eight
/// packed 6-bit scale/min pairs, see <see cref="KQuantScales"/>), qs[128] (16-143). Each 64-element
/// chunk c uses 32 bytes of qs: the low nibbles are elements 64c..64c+31 with pair 2c, the high
/// nibbles elements 64c+32..64c+63 with pair 2c+1. x = d*scale * q - dmin*min.
/// </summary>
internal static class Q4_KBlock
{
    public const int Elements = 256;
    public const int Bytes = 144;

    public static void Dequantize(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Fp16.ReadHalf(b, 0);
        float dmin = Fp16.ReadHalf(b, 2);
        ReadOnlySpan<byte> scales = b.Slice(4, 12);
        ReadOnlySpan<byte> qs = b.Slice(16, 128);
        for (int c = 0; c < 4; c++)
        {
            var (sc0, m0) = KQuantScales.Get(2 * c, scales);
            var (sc1, m1) = KQuantScales.Get(2 * c + 1, scales);
            float d0 = d * sc0, min0 = dmin * m0;
            float d1 = d * sc1, min1 = dmin * m1;
            ReadOnlySpan<byte> q = qs.Slice(32 * c, 32);
            Span<float> out0 = y.Slice(64 * c, 32), out1 = y.Slice(64 * c + 32, 32);
            for (int l = 0; l < 32; l++)
            {
                out0[l] = d0 * (q[l] & 0xF) - min0;
                out1[l] = d1 * (q[l] >> 4) - min1;
            }
        }
    }

    /// <summary>ggml's quantize_row_q4_K_ref: per 32 elements a weighted scale/min search, then both quantized to 6 bits.</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> b)
    {
        Span<byte> l = stackalloc byte[Elements];
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
            scales[j] = KQuantMath.MakeQkx2Quants(15, xj, weights, l.Slice(32 * j, 32), out mins[j], laux, -1f, 0.1f, 20);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        Span<byte> packed = b.Slice(4, 12);
        KQuantScales.Pack(scales, mins, maxScale, maxMin, packed);
        Fp16.WriteHalf(b, 0, maxScale / 63f);
        Fp16.WriteHalf(b, 2, maxMin / 63f);
        float d = Fp16.ReadHalf(b, 0), dmin = Fp16.ReadHalf(b, 2);

        for (int j = 0; j < 8; j++)
        {
            var (sc, m) = KQuantScales.Get(j, packed);
            float dj = d * sc;
            if (dj == 0) continue;
            float dm = dmin * m;
            for (int i = 0; i < 32; i++)
                l[32 * j + i] = (byte)Math.Max(0, Math.Min(15, KQuantMath.NearestInt((x[32 * j + i] + dm) / dj)));
        }

        Span<byte> qs = b.Slice(16, 128);
        for (int c = 0; c < 4; c++)
            for (int i = 0; i < 32; i++)
                qs[32 * c + i] = (byte)(l[64 * c + i] | (l[64 * c + i + 32] << 4));
    }
}
