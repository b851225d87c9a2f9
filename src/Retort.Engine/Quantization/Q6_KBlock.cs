namespace Retort.Engine.Quantization;

/// <summary>
/// Q6_K: 256 elements in 210 bytes. Layout: ql[128] (0-127, low 4 bits), qh[64] (128-191, high 2
/// bits), int8 scales[16] (192-207, one per 16 elements), half d (208-209). Each 128-element half h
/// uses ql[64h..64h+63], qh[32h..32h+31], scales[8h..8h+7]; for l in 0..31 the four elements
/// l, l+32, l+64, l+96 take low bits from ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high and
/// high bits from qh[l] bits 0-1, 2-3, 4-5, 6-7. x = d * scale * (q - 32).
/// </summary>
internal static class Q6_KBlock
{
    public const int Elements = 256;
    public const int Bytes = 210;

    public static void Dequantize(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Fp16.ReadHalf(b, 208);
        for (int h = 0; h < 2; h++)
        {
            ReadOnlySpan<byte> ql = b.Slice(64 * h, 64);
            ReadOnlySpan<byte> qh = b.Slice(128 + 32 * h, 32);
            ReadOnlySpan<byte> sc = b.Slice(192 + 8 * h, 8);
            Span<float> o = y.Slice(128 * h, 128);
            for (int l = 0; l < 32; l++)
            {
                int s = l / 16;
                int q1 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                o[l] = d * (sbyte)sc[s] * q1;
                o[l + 32] = d * (sbyte)sc[s + 2] * q2;
                o[l + 64] = d * (sbyte)sc[s + 4] * q3;
                o[l + 96] = d * (sbyte)sc[s + 6] * q4;
            }
        }
    }

    /// <summary>ggml's quantize_row_q6_K_ref: a symmetric scale per 16 elements, quantized to int8 against the block's largest.</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> b)
    {
        Span<sbyte> l = stackalloc sbyte[Elements];
        Span<float> scales = stackalloc float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++)
        {
            float scale = KQuantMath.MakeQxQuants(32, x.Slice(16 * ib, 16), l.Slice(16 * ib, 16));
            scales[ib] = scale;
            if (MathF.Abs(scale) > maxAbsScale)
            {
                maxAbsScale = MathF.Abs(scale);
                maxScale = scale;
            }
        }
        b[..Bytes].Clear();
        if (maxAbsScale < KQuantMath.GroupMaxEps) return;

        float iscale = -128f / maxScale;
        Fp16.WriteHalf(b, 208, 1 / iscale);
        for (int ib = 0; ib < 16; ib++) b[192 + ib] = (byte)(sbyte)Math.Min(127, KQuantMath.NearestInt(iscale * scales[ib]));
        float d = Fp16.ReadHalf(b, 208);
        for (int j = 0; j < 16; j++)
        {
            float dj = d * (sbyte)b[192 + j];
            if (dj == 0) continue;
            for (int i = 0; i < 16; i++)
                l[16 * j + i] = (sbyte)(Math.Max(-32, Math.Min(31, KQuantMath.NearestInt(x[16 * j + i] / dj))) + 32);
        }

        for (int h = 0; h < 2; h++)
        {
            Span<byte> ql = b.Slice(64 * h, 64), qh = b.Slice(128 + 32 * h, 32);
            int j = 128 * h;
            for (int i = 0; i < 32; i++)
            {
                int q1 = l[j + i] & 0xF, q2 = l[j + i + 32] & 0xF, q3 = l[j + i + 64] & 0xF, q4 = l[j + i + 96] & 0xF;
                ql[i] = (byte)(q1 | (q3 << 4));
                ql[i + 32] = (byte)(q2 | (q4 << 4));
                qh[i] = (byte)((l[j + i] >> 4) | ((l[j + i + 32] >> 4) << 2) | ((l[j + i + 64] >> 4) << 4) | ((l[j + i + 96] >> 4) << 6));
            }
        }
    }
}
