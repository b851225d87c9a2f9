namespace Retort.Engine.Quantization;

/// <summary>
/// Q4_0: 32 elements in 18 bytes. Layout: half d (bytes 0-1), then qs[16] of nibbles: the low
/// nibble of qs[j] is element j, the high nibble element j + 16. x = (q - 8) * d.
/// </summary>
internal static class Q4_0Block
{
    public const int Elements = 32;
    public const int Bytes = 18;

    public static void Dequantize(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Fp16.ReadHalf(b, 0);
        for (int j = 0; j < 16; j++)
        {
            int q = b[2 + j];
            y[j] = ((q & 0xF) - 8) * d;
            y[j + 16] = ((q >> 4) - 8) * d;
        }
    }

    /// <summary>ggml's reference: d = (the value of largest magnitude, with its sign) / -8, q = trunc(x/d + 8.5) capped at 15.</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> b)
    {
        float amax = 0, max = 0;
        for (int i = 0; i < Elements; i++)
        {
            if (amax < MathF.Abs(x[i]))
            {
                amax = MathF.Abs(x[i]);
                max = x[i];
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Fp16.WriteHalf(b, 0, d);
        for (int j = 0; j < 16; j++)
        {
            int q0 = Math.Min(15, (int)(x[j] * id + 8.5f));
            int q1 = Math.Min(15, (int)(x[j + 16] * id + 8.5f));
            b[2 + j] = (byte)(q0 | (q1 << 4));
        }
    }
}
