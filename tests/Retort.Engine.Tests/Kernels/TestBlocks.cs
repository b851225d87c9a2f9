using Retort.Engine.Tensors;

namespace Retort.Engine.Tests.Kernels;

/// <summary>
/// Random weight rows in GGUF block layouts, and a deliberately plain dequantizer written from the
/// layouts (independent of the engine's Quantization code) that the kernel tests compare against.
/// </summary>
internal static class TestBlocks
{
    public static ushort Half(float f) => BitConverter.HalfToUInt16Bits((Half)f);

    public static float FromHalf(ushort h) => (float)BitConverter.UInt16BitsToHalf(h);

    /// <summary>A random row of n elements of the given type.</summary>
    public static byte[] RandomRow(GgmlType type, int n, Random rng)
    {
        byte[] row = new byte[GgmlTypeInfo.RowBytes(type, n)];
        rng.NextBytes(row);
        int bb = GgmlTypeInfo.BlockBytes(type);
        switch (type)
        {
            case GgmlType.Q8_0:
            case GgmlType.Q4_0:
                for (int o = 0; o < row.Length; o += bb) SetHalf(row, o, Scale(rng));
                break;
            case GgmlType.Q4_K:
                for (int o = 0; o < row.Length; o += bb)
                {
                    SetHalf(row, o, Scale(rng));
                    SetHalf(row, o + 2, Scale(rng));
                }
                break;
            case GgmlType.Q6_K:
                for (int o = 0; o < row.Length; o += bb) SetHalf(row, o + 208, Scale(rng));
                break;
            case GgmlType.F16:
                for (int i = 0; i < n; i++) SetHalf(row, 2 * i, (float)(rng.NextDouble() * 2 - 1));
                break;
            case GgmlType.BF16:
                for (int i = 0; i < n; i++)
                {
                    uint bits = BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * 2 - 1));
                    BitConverter.TryWriteBytes(row.AsSpan(2 * i), (ushort)(bits >> 16));
                }
                break;
            case GgmlType.F32:
                for (int i = 0; i < n; i++) BitConverter.TryWriteBytes(row.AsSpan(4 * i), (float)(rng.NextDouble() * 2 - 1));
                break;
        }
        return row;
    }

    /// <summary>Activations with varied magnitudes per block, an all-zero block and a few outliers.</summary>
    public static float[] RandomActivations(int n, Random rng)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double mag = Math.Pow(10, (i / 32 % 5) - 2);
            x[i] = (float)((rng.NextDouble() * 2 - 1) * mag);
        }
        if (n >= 64) Array.Clear(x, 32, 32);
        if (n > 0) x[rng.Next(n)] = 40f;
        return x;
    }

    public static double[] Dequantize(GgmlType type, byte[] row, int n)
    {
        var y = new double[n];
        int bb = GgmlTypeInfo.BlockBytes(type);
        switch (type)
        {
            case GgmlType.Q8_0:
                for (int b = 0; b < n / 32; b++)
                {
                    int o = b * bb;
                    double d = FromHalf(BitConverter.ToUInt16(row, o));
                    for (int j = 0; j < 32; j++) y[b * 32 + j] = d * (sbyte)row[o + 2 + j];
                }
                break;
            case GgmlType.Q4_0:
                for (int b = 0; b < n / 32; b++)
                {
                    int o = b * bb;
                    double d = FromHalf(BitConverter.ToUInt16(row, o));
                    for (int j = 0; j < 16; j++)
                    {
                        y[b * 32 + j] = d * ((row[o + 2 + j] & 0xF) - 8);
                        y[b * 32 + j + 16] = d * ((row[o + 2 + j] >> 4) - 8);
                    }
                }
                break;
            case GgmlType.Q4_K:
                for (int b = 0; b < n / 256; b++)
                {
                    int o = b * bb;
                    double d = FromHalf(BitConverter.ToUInt16(row, o));
                    double dmin = FromHalf(BitConverter.ToUInt16(row, o + 2));
                    var s = row.AsSpan(o + 4, 12);
                    for (int i = 0; i < 4; i++)
                    {
                        for (int half = 0; half < 2; half++)
                        {
                            int j = 2 * i + half;
                            int sc, m;
                            if (j < 4) { sc = s[j] & 63; m = s[j + 4] & 63; }
                            else { sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4); m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4); }
                            for (int l = 0; l < 32; l++)
                            {
                                int q = row[o + 16 + 32 * i + l];
                                q = half == 0 ? q & 0xF : q >> 4;
                                y[b * 256 + 64 * i + 32 * half + l] = d * sc * q - dmin * m;
                            }
                        }
                    }
                }
                break;
            case GgmlType.Q6_K:
                for (int b = 0; b < n / 256; b++)
                {
                    int o = b * bb;
                    double d = FromHalf(BitConverter.ToUInt16(row, o + 208));
                    for (int half = 0; half < 2; half++)
                    {
                        int ql = o + 64 * half, qh = o + 128 + 32 * half, sc = o + 192 + 8 * half;
                        int yo = b * 256 + 128 * half;
                        for (int l = 0; l < 32; l++)
                        {
                            int isc = l / 16;
                            int q1 = ((row[ql + l] & 0xF) | (((row[qh + l] >> 0) & 3) << 4)) - 32;
                            int q2 = ((row[ql + l + 32] & 0xF) | (((row[qh + l] >> 2) & 3) << 4)) - 32;
                            int q3 = ((row[ql + l] >> 4) | (((row[qh + l] >> 4) & 3) << 4)) - 32;
                            int q4 = ((row[ql + l + 32] >> 4) | (((row[qh + l] >> 6) & 3) << 4)) - 32;
                            y[yo + l] = d * (sbyte)row[sc + isc] * q1;
                            y[yo + l + 32] = d * (sbyte)row[sc + isc + 2] * q2;
                            y[yo + l + 64] = d * (sbyte)row[sc + isc + 4] * q3;
                            y[yo + l + 96] = d * (sbyte)row[sc + isc + 6] * q4;
                        }
                    }
                }
                break;
            case GgmlType.F16:
                for (int i = 0; i < n; i++) y[i] = FromHalf(BitConverter.ToUInt16(row, 2 * i));
                break;
            case GgmlType.BF16:
                for (int i = 0; i < n; i++) y[i] = BitConverter.UInt32BitsToSingle((uint)BitConverter.ToUInt16(row, 2 * i) << 16);
                break;
            case GgmlType.F32:
                for (int i = 0; i < n; i++) y[i] = BitConverter.ToSingle(row, 4 * i);
                break;
            default:
                throw new NotSupportedException(type.ToString());
        }
        return y;
    }

    private static float Scale(Random rng) => (float)(rng.NextDouble() * 0.02 + 0.001) * (rng.Next(2) == 0 ? 1 : -1);

    private static void SetHalf(byte[] row, int offset, float value) =>
        BitConverter.TryWriteBytes(row.AsSpan(offset), Half(value));
}
