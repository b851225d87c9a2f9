namespace Retort.Engine.Quantization;

/// <summary>
/// Q8_0: 32 elements in 34 bytes. Layout: half d (bytes 0-1), then int8 qs[32].
/// x[i] = qs[i] * d.
/// </summary>
internal static class Q8_0Block
{
    public const int Elements = 32;
    public const int Bytes = 34;

    public static void Dequantize(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Fp16.ReadHalf(b, 0);
        for (int i = 0; i < Elements; i++) y[i] = (sbyte)b[2 + i] * d;
    }

    /// <summary>ggml's reference: d = max|x| / 127, q = round-half-away(x / d).</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> b)
    {
        float amax = 0;
        for (int i = 0; i < Elements; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Fp16.WriteHalf(b, 0, d);
        for (int i = 0; i < Elements; i++) b[2 + i] = (byte)(sbyte)MathF.Round(x[i] * id, MidpointRounding.AwayFromZero);
    }
}
