namespace Retort.Engine.Quantization;

/// <summary>
/// Q5_K: 256 elements in 176 bytes. Layout: half d (0-1), half dmin (2-3), scales[12] (4-15, as in
/// Q4_K), qh[32] (16-47), qs[128] (48-175). Chunk c (64 elements) takes the 4 low bits from
/// qs[32c..32c+31] (low nibbles for the first 32 elements, high nibbles for the next 32) and the
/// 5th bit from qh[l] bit 2c (first half) or bit 2c+1 (second half). x = d*scale * q - dmin*min.
/// </summary>
internal static class Q5_KBlock
{
    public const int Elements = 256;
    public const int Bytes = 176;

    public static void Dequantize(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Fp16.ReadHalf(b, 0);
        float dmin = Fp16.ReadHalf(b, 2);
        ReadOnlySpan<byte> scales = b.Slice(4, 12);
        ReadOnlySpan<byte> qh = b.Slice(16, 32);
        ReadOnlySpan<byte> qs = b.Slice(48, 128);
        for (int c = 0; c < 4; c++)
        {
            var (sc0, m0) = KQuantScales.Get(2 * c, scales);
            var (sc1, m1) = KQuantScales.Get(2 * c + 1, scales);
            float d0 = d * sc0, min0 = dmin * m0;
            float d1 = d * sc1, min1 = dmin * m1;
            int bit0 = 1 << (2 * c), bit1 = 1 << (2 * c + 1);
            ReadOnlySpan<byte> q = qs.Slice(32 * c, 32);
            Span<float> out0 = y.Slice(64 * c, 32), out1 = y.Slice(64 * c + 32, 32);
            for (int l = 0; l < 32; l++)
            {
                out0[l] = d0 * ((q[l] & 0xF) + ((qh[l] & bit0) != 0 ? 16 : 0)) - min0;
                out1[l] = d1 * ((q[l] >> 4) + ((qh[l] & bit1) != 0 ? 16 : 0)) - min1;
            }
        }
    }

    /// <summary>
    /// ggml's quantize_row_q5_K_ref: as Q4_K (weighted scale/min search per 32, both to 6 bits) with
    /// 5-bit levels (0..31) and its own search range; the 5th bits go to qh.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> b)
    {
        Span<byte> l = stackalloc byte[Elements];
        KQuantScales.QuantizeLevels(x, b, 31, -0.5f, 0.1f, 15, l);

        Span<byte> qh = b.Slice(16, 32);
        Span<byte> qs = b.Slice(48, 128);
        qh.Clear();
        for (int c = 0; c < 4; c++)
        {
            byte bit0 = (byte)(1 << (2 * c)), bit1 = (byte)(1 << (2 * c + 1));
            for (int i = 0; i < 32; i++)
            {
                int lo = l[64 * c + i], hi = l[64 * c + i + 32];
                if (lo > 15)
                {
                    lo -= 16;
                    qh[i] |= bit0;
                }
                if (hi > 15)
                {
                    hi -= 16;
                    qh[i] |= bit1;
                }
                qs[32 * c + i] = (byte)(lo | (hi << 4));
            }
        }
    }
}
