namespace Retort.Engine.Quantization;

/// <summary>
/// Q4_1: 32 elements in 20 bytes. Layout: half d (bytes 0-1), half m (bytes 2-3), then qs[16]:
/// low nibble of qs[j] is element j, high nibble element j + 16. x = q * d + m.
/// </summary>
internal static class Q4_1Block
{
    public const int Elements = 32;
    public const int Bytes = 20;

    public static void Dequantize(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Fp16.ReadHalf(b, 0);
        float m = Fp16.ReadHalf(b, 2);
        for (int j = 0; j < 16; j++)
        {
            int q = b[4 + j];
            y[j] = (q & 0xF) * d + m;
            y[j + 16] = (q >> 4) * d + m;
        }
    }

    /// <summary>ggml's reference: m = min, d = (max - min) / 15, q = trunc((x - min)/d + 0.5) capped at 15.</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> b)
    {
        float min = float.MaxValue, max = -float.MaxValue;
        for (int i = 0; i < Elements; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
        }
        float d = (max - min) / 15;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Fp16.WriteHalf(b, 0, d);
        Fp16.WriteHalf(b, 2, min);
        for (int j = 0; j < 16; j++)
        {
            int q0 = Math.Min(15, (int)((x[j] - min) * id + 0.5f));
            int q1 = Math.Min(15, (int)((x[j + 16] - min) * id + 0.5f));
            b[4 + j] = (byte)(q0 | (q1 << 4));
        }
    }
}
