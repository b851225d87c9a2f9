using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Retort.Engine.Kernels;

/// <summary>
/// IEEE half and bfloat16 to float conversion. .NET 10 exposes no F16C intrinsics, so the half
/// conversion is done with integer ops plus one multiply, which is exact for every half value.
/// </summary>
internal static class HalfConversion
{
    // 2^112 re-biases a half exponent (bias 15) placed in a float's exponent field (bias 127);
    // because it is a multiply, half subnormals come out right without a branch.
    private const float Rebias = 5.192296858534828e33f;

    /// <summary>
    /// All 65536 halves as floats (256 KiB, never freed). Block scales of real weights cluster in a
    /// narrow range, so the lines used stay cached; one load beats the bit arithmetic in the
    /// per-block path of the quantized dot products.
    /// </summary>
    public static readonly unsafe float* Table = BuildTable();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float HalfToSingleLookup(ushort h) => Table[h];

    private static unsafe float* BuildTable()
    {
        float* t = (float*)NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (int i = 0; i < 65536; i++) t[i] = HalfToSingle((ushort)i);
        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort h)
    {
        uint em = h & 0x7FFFu;
        float f = BitConverter.UInt32BitsToSingle(em << 13) * Rebias;
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (em >= 0x7C00u) bits |= 0x7F800000u; // infinity / NaN keep their payload
        return BitConverter.UInt32BitsToSingle(bits | ((h & 0x8000u) << 16));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BFloat16ToSingle(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>Converts halves held in the low 16 bits of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HalfToSingle(Vector256<uint> h)
    {
        Vector256<uint> em = h & Vector256.Create(0x7FFFu);
        Vector256<uint> bits = (Vector256.ShiftLeft(em, 13).AsSingle() * Vector256.Create(Rebias)).AsUInt32();
        bits |= Vector256.GreaterThanOrEqual(em, Vector256.Create(0x7C00u)) & Vector256.Create(0x7F800000u);
        return (bits | Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfToSingle(Vector512<uint> h)
    {
        Vector512<uint> em = h & Vector512.Create(0x7FFFu);
        Vector512<uint> bits = (Vector512.ShiftLeft(em, 13).AsSingle() * Vector512.Create(Rebias)).AsUInt32();
        bits |= Vector512.GreaterThanOrEqual(em, Vector512.Create(0x7C00u)) & Vector512.Create(0x7F800000u);
        return (bits | Vector512.ShiftLeft(h & Vector512.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> HalfToSingle(Vector128<uint> h)
    {
        Vector128<uint> em = h & Vector128.Create(0x7FFFu);
        Vector128<uint> bits = (Vector128.ShiftLeft(em, 13).AsSingle() * Vector128.Create(Rebias)).AsUInt32();
        bits |= Vector128.GreaterThanOrEqual(em, Vector128.Create(0x7C00u)) & Vector128.Create(0x7F800000u);
        return (bits | Vector128.ShiftLeft(h & Vector128.Create(0x8000u), 16)).AsSingle();
    }
}
