using Retort.Engine.Quantization;
using Retort.Engine.Tensors;

namespace Retort.Engine.Tests.Quantization;

/// <summary>
/// Hand-built blocks: expected values are computed here, element by element, straight from the
/// ggml block layout definitions, independently of the loops in the implementation.
/// </summary>
public class DequantizeTests
{
    private static byte[] Half(float v)
    {
        ushort bits = BitConverter.HalfToUInt16Bits((Half)v);
        Assert.Equal(v, (float)(Half)v); // the test only uses exactly representable scales
        return [(byte)bits, (byte)(bits >> 8)];
    }

    private static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static float[] Run(GgmlType type, byte[] block, int elements)
    {
        var y = new float[elements];
        Dequantize.Row(type, block, y);
        return y;
    }

    [Fact]
    public void F32F16BF16()
    {
        float[] values = [1.5f, -0.0f, 65504f, 1e-7f, float.NegativeInfinity];
        byte[] f32 = values.SelectMany(BitConverter.GetBytes).ToArray();
        Assert.Equal(values, Run(GgmlType.F32, f32, 5));

        // Half bit patterns written by hand: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, smallest subnormal 0x0001 = 2^-24.
        byte[] f16 = [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0x01, 0x00];
        Assert.Equal([1f, -2f, 0.5f, MathF.Pow(2, -24)], Run(GgmlType.F16, f16, 4));

        // bf16 0x3FC0 = 1.5, 0xC2F7 = -123.5, 0x0001 = float bits 0x00010000.
        byte[] bf16 = [0xC0, 0x3F, 0xF7, 0xC2, 0x01, 0x00];
        Assert.Equal([1.5f, -123.5f, BitConverter.Int32BitsToSingle(0x00010000)], Run(GgmlType.BF16, bf16, 3));
    }

    [Fact]
    public void Q8_0()
    {
        byte[] qs = RandomBytes(32, 1);
        byte[] block = [.. Half(0.375f), .. qs];
        float[] y = Run(GgmlType.Q8_0, block, 32);
        for (int i = 0; i < 32; i++) Assert.Equal((sbyte)qs[i] * 0.375f, y[i]);
    }

    [Fact]
    public void Q4_0()
    {
        var qs = new byte[16];
        for (int j = 0; j < 16; j++) qs[j] = (byte)(j | ((15 - j) << 4));
        float[] y = Run(GgmlType.Q4_0, [.. Half(0.25f), .. qs], 32);
        for (int j = 0; j < 16; j++)
        {
            Assert.Equal((j - 8) * 0.25f, y[j]);
            Assert.Equal((15 - j - 8) * 0.25f, y[j + 16]);
        }
    }

    [Fact]
    public void Q4_1()
    {
        byte[] qs = RandomBytes(16, 2);
        float[] y = Run(GgmlType.Q4_1, [.. Half(0.5f), .. Half(-1.25f), .. qs], 32);
        for (int j = 0; j < 16; j++)
        {
            Assert.Equal((qs[j] & 15) * 0.5f - 1.25f, y[j]);
            Assert.Equal((qs[j] >> 4) * 0.5f - 1.25f, y[j + 16]);
        }
    }

    [Fact]
    public void Q5_0()
    {
        byte[] qs = RandomBytes(16, 3);
        byte[] qh = [0x0F, 0xA5, 0x3C, 0x81]; // little-endian uint32 0x813CA50F
        uint h = 0x813CA50Fu;
        float[] y = Run(GgmlType.Q5_0, [.. Half(2f), .. qh, .. qs], 32);
        for (int i = 0; i < 32; i++)
        {
            int nibble = i < 16 ? qs[i] & 15 : qs[i - 16] >> 4;
            int q = nibble + 16 * (int)((h >> i) & 1);
            Assert.Equal((q - 16) * 2f, y[i]);
        }
    }

    [Fact]
    public void Q5_1()
    {
        byte[] qs = RandomBytes(16, 4);
        byte[] qh = [0xFF, 0x00, 0x5A, 0xC3];
        uint h = 0xC35A00FFu;
        float[] y = Run(GgmlType.Q5_1, [.. Half(0.125f), .. Half(3f), .. qh, .. qs], 32);
        for (int i = 0; i < 32; i++)
        {
            int nibble = i < 16 ? qs[i] & 15 : qs[i - 16] >> 4;
            int q = nibble + 16 * (int)((h >> i) & 1);
            Assert.Equal(q * 0.125f + 3f, y[i]);
        }
    }

    /// <summary>Packs eight 6-bit scales and mins the way ggml's K-quant quantizers store them.</summary>
    private static byte[] PackScales(int[] sc, int[] m)
    {
        var b = new byte[12];
        for (int j = 0; j < 4; j++)
        {
            b[j] = (byte)(sc[j] | ((sc[j + 4] >> 4) << 6));
            b[j + 4] = (byte)(m[j] | ((m[j + 4] >> 4) << 6));
            b[j + 8] = (byte)((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
        }
        return b;
    }

    private static readonly int[] Scales = [1, 63, 17, 40, 5, 33, 62, 48];
    private static readonly int[] Mins = [0, 9, 63, 31, 50, 16, 2, 47];

    [Fact]
    public void KQuantScaleUnpacking()
    {
        byte[] packed = PackScales(Scales, Mins);
        for (int j = 0; j < 8; j++) Assert.Equal((Scales[j], Mins[j]), KQuantScales.Get(j, packed));
    }

    [Fact]
    public void Q4_K()
    {
        const float d = 0.5f, dmin = 0.25f;
        byte[] qs = RandomBytes(128, 5);
        byte[] block = [.. Half(d), .. Half(dmin), .. PackScales(Scales, Mins), .. qs];
        Assert.Equal(144, block.Length);
        float[] y = Run(GgmlType.Q4_K, block, 256);
        for (int e = 0; e < 256; e++)
        {
            int s = e / 32, l = e % 32, chunk = s / 2;
            int q = s % 2 == 0 ? qs[32 * chunk + l] & 15 : qs[32 * chunk + l] >> 4;
            float expected = d * Scales[s] * q - dmin * Mins[s];
            Assert.Equal(expected, y[e]);
        }
    }

    [Fact]
    public void Q5_K()
    {
        const float d = 0.0625f, dmin = 1.5f;
        byte[] qh = RandomBytes(32, 6);
        byte[] qs = RandomBytes(128, 7);
        byte[] block = [.. Half(d), .. Half(dmin), .. PackScales(Scales, Mins), .. qh, .. qs];
        Assert.Equal(176, block.Length);
        float[] y = Run(GgmlType.Q5_K, block, 256);
        for (int e = 0; e < 256; e++)
        {
            int s = e / 32, l = e % 32, chunk = s / 2;
            int low = s % 2 == 0 ? qs[32 * chunk + l] & 15 : qs[32 * chunk + l] >> 4;
            int q = low + 16 * ((qh[l] >> s) & 1);
            float expected = d * Scales[s] * q - dmin * Mins[s];
            Assert.Equal(expected, y[e]);
        }
    }

    [Fact]
    public void Q6_K()
    {
        const float d = 0.125f;
        byte[] ql = RandomBytes(128, 8);
        byte[] qh = RandomBytes(64, 9);
        byte[] sc = RandomBytes(16, 10);
        byte[] block = [.. ql, .. qh, .. sc, .. Half(d)];
        Assert.Equal(210, block.Length);
        float[] y = Run(GgmlType.Q6_K, block, 256);
        for (int e = 0; e < 256; e++)
        {
            int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
            int qlByte = ql[64 * h + l + (k % 2 == 1 ? 32 : 0)];
            int low = k < 2 ? qlByte & 15 : qlByte >> 4;
            int high = (qh[32 * h + l] >> (2 * k)) & 3;
            int q = (low | (high << 4)) - 32;
            int scale = (sbyte)sc[8 * h + l / 16 + 2 * k];
            Assert.Equal(d * scale * q, y[e]);
        }
    }

    [Fact]
    public void MultipleBlocksInARow()
    {
        byte[] b0 = [.. Half(1f), .. RandomBytes(32, 11)];
        byte[] b1 = [.. Half(-2f), .. RandomBytes(32, 12)];
        float[] y = Run(GgmlType.Q8_0, [.. b0, .. b1], 64);
        Assert.Equal((sbyte)b0[5], y[3]);
        Assert.Equal((sbyte)b1[2 + 31] * -2f, y[63]);
    }

    [Fact]
    public void WrongSizesAreArgumentExceptions()
    {
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q8_0, new byte[34], new float[16]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q8_0, new byte[33], new float[32]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_K, new byte[144], new float[128]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.F16, new byte[6], new float[2]));
        Assert.Throws<NotSupportedException>(() => Dequantize.Row(GgmlType.IQ2_XXS, new byte[66], new float[256]));
    }
}
