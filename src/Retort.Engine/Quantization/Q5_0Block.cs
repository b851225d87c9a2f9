using System.Buffers.Binary;

namespace Retort.Engine.Quantization;

/// <summary>
/// Q5_0: 32 elements in 22 bytes. Layout: half d (bytes 0-1), uint32 qh (bytes 2-5, little-endian)
/// holding the 5th bit of element i at bit i, then qs[16]: low nibble of qs[j] is element j, high
/// nibble element j + 16. x = (q - 16) * d with q = nibble | (high bit << 4).
/// </summary>
internal static class Q5_0Block
{
    public const int Elements = 32;
    public const int Bytes = 22;

    public static void Dequantize(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Fp16.ReadHalf(b, 0);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(2, 4));
        for (int j = 0; j < 16; j++)
        {
            int q = b[6 + j];
            int h0 = (int)((qh >> j) & 1) << 4;
            int h1 = (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = ((q & 0xF | h0) - 16) * d;
            y[j + 16] = ((q >> 4 | h1) - 16) * d;
        }
    }

    /// <summary>ggml's reference: d = (signed value of largest magnitude) / -16, q = trunc(x/d + 16.5) capped at 31.</summary>
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
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Fp16.WriteHalf(b, 0, d);
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            int q0 = Math.Min(31, (int)(x[j] * id + 16.5f));
            int q1 = Math.Min(31, (int)(x[j + 16] * id + 16.5f));
            b[6 + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint)((q0 >> 4) & 1) << j;
            qh |= (uint)((q1 >> 4) & 1) << (j + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(b.Slice(2, 4), qh);
    }
}
