using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>
/// The two integer multiply-accumulate steps the 256-bit kernels need. Kernels are generic over a
/// struct implementing this, so the JIT emits one specialised body per instruction set (AVX2 and
/// AVX-VNNI) from a single source, and tests can run both on one machine.
/// </summary>
internal interface IByteMultiplyAdd
{
    /// <summary>acc + Σ over each group of 4 bytes of u*s (u unsigned, s signed).</summary>
    static abstract Vector256<int> MulAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s);

    /// <summary>acc + Σ over each pair of shorts of a*b.</summary>
    static abstract Vector256<int> MulAddPairs(Vector256<int> acc, Vector256<short> a, Vector256<short> b);

    /// <summary>
    /// True when MulAdd is exact for any unsigned byte (0..255); false when pairs of products
    /// must fit a short (vpmaddubsw saturates).
    /// </summary>
    static abstract bool FullByteRange { get; }
}

/// <summary>vpmaddubsw + vpmaddwd + vpaddd; safe while each byte pair sum fits in a short.</summary>
internal readonly struct Avx2MultiplyAdd : IByteMultiplyAdd
{
    public static bool FullByteRange => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MulAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
        Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256.Create((short)1)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MulAddPairs(Vector256<int> acc, Vector256<short> a, Vector256<short> b) =>
        Avx2.Add(acc, Avx2.MultiplyAddAdjacent(a, b));
}

/// <summary>vpdpbusd / vpdpwssd: the multiply and widening add in one instruction, no saturation.</summary>
internal readonly struct VnniMultiplyAdd : IByteMultiplyAdd
{
    public static bool FullByteRange => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MulAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
        AvxVnni.MultiplyWideningAndAdd(acc, u, s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MulAddPairs(Vector256<int> acc, Vector256<short> a, Vector256<short> b) =>
        AvxVnni.MultiplyWideningAndAdd(acc, a, b);
}

/// <summary>Cross-platform 128-bit helpers for the fallback path (widen to 16 bits, multiply, widen to 32).</summary>
internal static class Vector128Ops
{
    /// <summary>acc + products of 16 unsigned by 16 signed bytes, spread over 4 int lanes. Products must fit a short.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MulAdd(Vector128<int> acc, Vector128<byte> u, Vector128<sbyte> s)
    {
        var (ul, uh) = Vector128.Widen(u);
        var (sl, sh) = Vector128.Widen(s);
        Vector128<short> p = ul.AsInt16() * sl + uh.AsInt16() * sh;
        var (pl, ph) = Vector128.Widen(p);
        return acc + pl + ph;
    }

    /// <summary>acc + products of 16 signed by 16 signed bytes, spread over 4 int lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MulAdd(Vector128<int> acc, Vector128<sbyte> a, Vector128<sbyte> b)
    {
        var (al, ah) = Vector128.Widen(a);
        var (bl, bh) = Vector128.Widen(b);
        var (p0, p1) = Vector128.Widen(al * bl);
        var (p2, p3) = Vector128.Widen(ah * bh);
        return acc + (p0 + p1) + (p2 + p3);
    }
}
