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
}
