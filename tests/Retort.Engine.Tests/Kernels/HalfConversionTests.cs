using System.Runtime.Intrinsics;
using Retort.Engine.Kernels;

namespace Retort.Engine.Tests.Kernels;

public sealed class HalfConversionTests
{
    private static void AssertSame(float expected, float actual, int h)
    {
        if (float.IsNaN(expected)) Assert.True(float.IsNaN(actual), $"half 0x{h:X4}: expected NaN, got {actual}");
        else Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
            $"half 0x{h:X4}: expected {expected}, got {actual}");
    }

    [Fact]
    public void EveryHalfConvertsLikeSystemHalf()
    {
        // Covers zeros, subnormals, normals, infinities and NaNs of both signs.
        for (int h = 0; h < 65536; h++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            AssertSame(expected, HalfConversion.HalfToSingle((ushort)h), h);
            AssertSame(expected, HalfConversion.HalfToSingleLookup((ushort)h), h);
        }
    }

    [Fact]
    public void VectorConversionsMatchScalar()
    {
        for (int h = 0; h < 65536; h += 16)
        {
            var v512 = HalfConversion.HalfToSingle(Vector512.Create((uint)h) + Vector512.CreateSequence(0u, 1u));
            var v256 = HalfConversion.HalfToSingle(Vector256.Create((uint)h) + Vector256.CreateSequence(0u, 1u));
            var v128 = HalfConversion.HalfToSingle(Vector128.Create((uint)h) + Vector128.CreateSequence(0u, 1u));
            for (int i = 0; i < 16; i++)
            {
                float expected = HalfConversion.HalfToSingle((ushort)(h + i));
                AssertSame(expected, v512[i], h + i);
                if (i < 8) AssertSame(expected, v256[i], h + i);
                if (i < 4) AssertSame(expected, v128[i], h + i);
            }
        }
    }

    [Fact]
    public void BFloat16IsTheUpperHalfOfAFloat()
    {
        Assert.Equal(1.0f, HalfConversion.BFloat16ToSingle(0x3F80));
        Assert.Equal(-2.0f, HalfConversion.BFloat16ToSingle(0xC000));
        Assert.True(float.IsPositiveInfinity(HalfConversion.BFloat16ToSingle(0x7F80)));
    }
}
