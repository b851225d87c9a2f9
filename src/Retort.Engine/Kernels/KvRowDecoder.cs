using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Retort.Engine.Model;
using Retort.Engine.Quantization;

namespace Retort.Engine.Kernels;

/// <summary>
/// Expands a tile of KV cache rows (f16, bf16, Q8_0 or Q4_0) to float32 for the attention
/// kernel: the cache is read in its compact form (the memory traffic is the quantized bytes) and
/// each row is expanded once into a tile that every query vector of a GQA group, and every row
/// of a prompt tile, then reuses from L1. The vector bodies are bit-identical to ggml's scalar
/// dequantization (<see cref="DecodeScalar"/>, which calls <see cref="Dequantize.Row"/>).
/// </summary>
internal static unsafe class KvRowDecoder
{
    /// <summary><paramref name="rows"/> rows of <paramref name="hd"/> elements, rowBytes apart at src, into dst [rows][hd].</summary>
    public static void Decode(KvCacheType type, byte* src, int rowBytes, int rows, int hd, float* dst)
    {
        if (!Avx2.IsSupported || hd % 32 != 0)
        {
            DecodeScalar(type, src, rowBytes, rows, hd, dst);
            return;
        }
        if (Vector512.IsHardwareAccelerated && Avx512BW.IsSupported) Decode512(type, src, rows, hd, dst);
        else Decode256(type, src, rowBytes, rows, hd, dst);
    }

    /// <summary>The AVX2 body (eight floats at a time).</summary>
    internal static void Decode256(KvCacheType type, byte* src, int rowBytes, int rows, int hd, float* dst)
    {
        switch (type)
        {
            case KvCacheType.F32:
                for (int r = 0; r < rows; r++) Buffer.MemoryCopy(src + (long)r * rowBytes, dst + (long)r * hd, hd * 4L, hd * 4L);
                return;
            case KvCacheType.F16:
                for (long i = 0, n = (long)rows * hd; i < n; i += 8)
                    HalfConversion.HalfToSingle(Avx2.ConvertToVector256Int32((ushort*)src + i).AsUInt32()).Store(dst + i);
                return;
            case KvCacheType.BF16:
                for (long i = 0, n = (long)rows * hd; i < n; i += 8)
                    Vector256.ShiftLeft(Avx2.ConvertToVector256Int32((ushort*)src + i).AsUInt32(), 16).AsSingle().Store(dst + i);
                return;
            case KvCacheType.Q8_0:
                for (long b = 0, n = (long)rows * hd / 32; b < n; b++)
                {
                    byte* blk = src + b * 34;
                    var d = Vector256.Create(HalfConversion.HalfToSingleLookup(*(ushort*)blk));
                    sbyte* q = (sbyte*)(blk + 2);
                    float* y = dst + b * 32;
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q)) * d).Store(y);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q + 8)) * d).Store(y + 8);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q + 16)) * d).Store(y + 16);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q + 24)) * d).Store(y + 24);
                }
                return;
            case KvCacheType.Q4_0:
                for (long b = 0, n = (long)rows * hd / 32; b < n; b++)
                {
                    byte* blk = src + b * 18;
                    var d = Vector256.Create(HalfConversion.HalfToSingleLookup(*(ushort*)blk));
                    var eight = Vector256.Create(8);
                    float* y = dst + b * 32;
                    var lo0 = Avx2.ConvertToVector256Int32(blk + 2);
                    var lo1 = Avx2.ConvertToVector256Int32(blk + 10);
                    (Avx.ConvertToVector256Single((lo0 & Vector256.Create(0xF)) - eight) * d).Store(y);
                    (Avx.ConvertToVector256Single((lo1 & Vector256.Create(0xF)) - eight) * d).Store(y + 8);
                    (Avx.ConvertToVector256Single(Vector256.ShiftRightLogical(lo0, 4) - eight) * d).Store(y + 16);
                    (Avx.ConvertToVector256Single(Vector256.ShiftRightLogical(lo1, 4) - eight) * d).Store(y + 24);
                }
                return;
        }
        throw new ArgumentOutOfRangeException(nameof(type));
    }

    /// <summary>The AVX-512 body (sixteen floats at a time); rows must be contiguous.</summary>
    internal static void Decode512(KvCacheType type, byte* src, int rows, int hd, float* dst)
    {
        long n = (long)rows * hd;
        switch (type)
        {
            case KvCacheType.F32:
                Buffer.MemoryCopy(src, dst, n * 4, n * 4);
                return;
            case KvCacheType.F16:
                for (long i = 0; i < n; i += 16)
                    HalfConversion.HalfToSingle(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)src + i))).Store(dst + i);
                return;
            case KvCacheType.BF16:
                for (long i = 0; i < n; i += 16)
                    Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)src + i)), 16).AsSingle().Store(dst + i);
                return;
            case KvCacheType.Q8_0:
                for (long b = 0; b < n / 32; b++)
                {
                    byte* blk = src + b * 34;
                    var d = Vector512.Create(HalfConversion.HalfToSingleLookup(*(ushort*)blk));
                    sbyte* q = (sbyte*)(blk + 2);
                    float* y = dst + b * 32;
                    (Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(q))) * d).Store(y);
                    (Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(q + 16))) * d).Store(y + 16);
                }
                return;
            case KvCacheType.Q4_0:
                for (long b = 0; b < n / 32; b++)
                {
                    byte* blk = src + b * 18;
                    var d = Vector512.Create(HalfConversion.HalfToSingleLookup(*(ushort*)blk));
                    var eight = Vector512.Create(8);
                    var q = Avx512F.ConvertToVector512Int32(Vector128.Load(blk + 2));
                    float* y = dst + b * 32;
                    (Avx512F.ConvertToVector512Single((q & Vector512.Create(0xF)) - eight) * d).Store(y);
                    (Avx512F.ConvertToVector512Single(Vector512.ShiftRightLogical(q, 4) - eight) * d).Store(y + 16);
                }
                return;
        }
        throw new ArgumentOutOfRangeException(nameof(type));
    }

    /// <summary>The reference: ggml's scalar dequantization, row by row.</summary>
    public static void DecodeScalar(KvCacheType type, byte* src, int rowBytes, int rows, int hd, float* dst)
    {
        var blockType = KvCacheFormat.BlockType(type);
        for (int r = 0; r < rows; r++)
            Dequantize.Row(blockType, new ReadOnlySpan<byte>(src + (long)r * rowBytes, rowBytes), new Span<float>(dst + (long)r * hd, hd));
    }

    /// <summary>True when rows of this type are already float32 and can be read in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsFloat32(KvCacheType type) => type == KvCacheType.F32;
}
