using System.Buffers.Binary;

namespace Retort.Engine.Quantization;

/// <summary>
/// Q5_1: 32 elements in 24 bytes. Layout: half d (0-1), half m (2-3), uint32 qh (4-7, little-endian)
/// holding the 5th bit of element i at bit i, then qs[16]: low nibble of qs[j] is element j, high
/// nibble element j + 16. x = q * d + m with q = nibble | (high bit << 4).
/// </summary>
internal static class Q5_1Block
{
    public const int Elements = 32;
    public const int Bytes = 24;

    public static void Dequantize(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Fp16.ReadHalf(b, 0);
        float m = Fp16.ReadHalf(b, 2);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(4, 4));
        for (int j = 0; j < 16; j++)
        {
            int q = b[8 + j];
            int h0 = (int)((qh >> j) & 1) << 4;
            int h1 = (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = (q & 0xF | h0) * d + m;
            y[j + 16] = (q >> 4 | h1) * d + m;
        }
    }

    /// <summary>ggml's reference: m = min, d = (max - min) / 31, q = trunc((x - min)/d + 0.5).</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> b)
    {
        float min = float.MaxValue, max = -float.MaxValue;
        for (int i = 0; i < Elements; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
        }
        float d = (max - min) / 31;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Fp16.WriteHalf(b, 0, d);
        Fp16.WriteHalf(b, 2, min);
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            // The cap only guards float rounding at the top; ggml relies on the same bound holding.
            int q0 = Math.Min(31, (int)((x[j] - min) * id + 0.5f));
            int q1 = Math.Min(31, (int)((x[j + 16] - min) * id + 0.5f));
            b[8 + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint)((q0 >> 4) & 1) << j;
            qh |= (uint)((q1 >> 4) & 1) << (j + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(4, 4), qh);
    }
}
