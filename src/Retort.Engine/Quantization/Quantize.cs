using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Retort.Engine.Tensors;

namespace Retort.Engine.Quantization;

/// <summary>
/// Reference (round-to-nearest) quantization matching ggml's quantize_row_*_ref math for the
/// 32-element block types and Q4_K/Q6_K (no importance matrix), plus plain conversion to F32/F16/BF16.
/// </summary>
public static class Quantize
{
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (type)
        {
            case GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0
                or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K:
                break;
            default:
                throw new NotSupportedException($"Retort cannot quantize to tensor type {type}");
        }
        int bs = GgmlTypeInfo.BlockSize(type), bb = GgmlTypeInfo.BlockBytes(type);
        if (src.Length % bs != 0)
            throw new ArgumentException($"a {type} row must have a multiple of {bs} elements, got {src.Length}", nameof(src));
        long expected = (long)(src.Length / bs) * bb;
        if (dst.Length != expected)
            throw new ArgumentException($"{src.Length} {type} elements take {expected} bytes, got {dst.Length}", nameof(dst));

        switch (type)
        {
            case GgmlType.F32:
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("little-endian only");
                MemoryMarshal.AsBytes(src).CopyTo(dst);
                return;
            case GgmlType.F16:
                for (int i = 0; i < src.Length; i++) Fp16.WriteHalf(dst, 2 * i, src[i]);
                return;
            case GgmlType.BF16:
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(dst.Slice(2 * i, 2), Fp16.FloatToBF16(src[i]));
                return;
        }

        int blocks = src.Length / bs;
        for (int k = 0; k < blocks; k++)
        {
            ReadOnlySpan<float> x = src.Slice(k * bs, bs);
            Span<byte> b = dst.Slice(k * bb, bb);
            switch (type)
            {
                case GgmlType.Q8_0: Q8_0Block.Quantize(x, b); break;
                case GgmlType.Q4_0: Q4_0Block.Quantize(x, b); break;
                case GgmlType.Q4_1: Q4_1Block.Quantize(x, b); break;
                case GgmlType.Q5_0: Q5_0Block.Quantize(x, b); break;
                case GgmlType.Q5_1: Q5_1Block.Quantize(x, b); break;
                case GgmlType.Q4_K: Q4_KBlock.Quantize(x, b); break;
                case GgmlType.Q5_K: Q5_KBlock.Quantize(x, b); break;
                case GgmlType.Q6_K: Q6_KBlock.Quantize(x, b); break;
            }
        }
    }
}
