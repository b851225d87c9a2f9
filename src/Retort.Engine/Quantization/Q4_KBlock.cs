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
        KQuantScales.QuantizeLevels(x, b, 15, -1f, 0.1f, 20, l);

        Span<byte> qs = b.Slice(16, 128);
        for (int c = 0; c < 4; c++)
            for (int i = 0; i < 32; i++)
                qs[32 * c + i] = (byte)(l[64 * c + i] | (l[64 * c + i + 32] << 4));
    }
}
