using System.Buffers.Binary;

namespace Retort.Engine.Quantization;

/// <summary>The 16-bit float formats: IEEE half (ggml F16, block scales) and bfloat16.</summary>
internal static class Fp16
{
    public static float ReadHalf(ReadOnlySpan<byte> src, int offset) =>
        (float)BinaryPrimitives.ReadHalfLittleEndian(src.Slice(offset, 2));

    /// <summary>Rounds to nearest-even half, as ggml's fp32→fp16 does, and writes it little-endian.</summary>
    public static void WriteHalf(Span<byte> dst, int offset, float value) =>
        BinaryPrimitives.WriteHalfLittleEndian(dst.Slice(offset, 2), (Half)value);

    /// <summary>bfloat16 is the upper half of a float32, so widening is exact.</summary>
    public static float BF16ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Round-to-nearest-even like ggml's fp32→bf16; NaNs stay NaN (quiet bit set) instead of rounding to infinity.</summary>
    public static ushort FloatToBF16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }
}
