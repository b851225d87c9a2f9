using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Retort.Engine.Tensors;

namespace Retort.Engine.Quantization;

/// <summary>Scalar reference dequantization, bit-exact with ggml's block layouts and arithmetic.</summary>
public static class Dequantize
{
    /// <summary>A whole tensor (under 2^31 elements) as float32, row by row.</summary>
    internal static float[] Tensor(TensorData tensor)
    {
        var result = new float[tensor.ElementCount];
        int rowLength = checked((int)tensor.RowLength);
        for (long r = 0; r < tensor.RowCount; r++)
            Row(tensor.Type, tensor.RowBytes(r), result.AsSpan(checked((int)(r * rowLength)), rowLength));
        return result;
    }

    /// <summary>
    /// Expands one row: <paramref name="dst"/>.Length elements from exactly the bytes they take in
    /// <paramref name="type"/>. A length that is not a whole number of blocks, or a source of the
    /// wrong size, is an <see cref="ArgumentException"/>.
    /// </summary>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!GgmlTypeInfo.IsSupported(type))
            throw new NotSupportedException($"Retort cannot dequantize tensor type {type}");
        int bs = GgmlTypeInfo.BlockSize(type), bb = GgmlTypeInfo.BlockBytes(type);
        if (dst.Length % bs != 0)
            throw new ArgumentException($"a {type} row must have a multiple of {bs} elements, got {dst.Length}", nameof(dst));
        long expected = (long)(dst.Length / bs) * bb;
        if (src.Length != expected)
            throw new ArgumentException($"{dst.Length} {type} elements take {expected} bytes, got {src.Length}", nameof(src));

        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("little-endian only");
                return;
            case GgmlType.F16:
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src.Slice(2 * i, 2));
                return;
            case GgmlType.BF16:
                for (int i = 0; i < dst.Length; i++) dst[i] = Fp16.BF16ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(src.Slice(2 * i, 2)));
                return;
        }

        int blocks = dst.Length / bs;
        for (int k = 0; k < blocks; k++)
        {
            ReadOnlySpan<byte> b = src.Slice(k * bb, bb);
            Span<float> y = dst.Slice(k * bs, bs);
            switch (type)
            {
                case GgmlType.Q8_0: Q8_0Block.Dequantize(b, y); break;
                case GgmlType.Q4_0: Q4_0Block.Dequantize(b, y); break;
                case GgmlType.Q4_1: Q4_1Block.Dequantize(b, y); break;
                case GgmlType.Q5_0: Q5_0Block.Dequantize(b, y); break;
                case GgmlType.Q5_1: Q5_1Block.Dequantize(b, y); break;
                case GgmlType.Q4_K: Q4_KBlock.Dequantize(b, y); break;
                case GgmlType.Q5_K: Q5_KBlock.Dequantize(b, y); break;
                case GgmlType.Q6_K: Q6_KBlock.Dequantize(b, y); break;
                default: throw new NotSupportedException($"Retort cannot dequantize tensor type {type}");
            }
        }
    }
}
