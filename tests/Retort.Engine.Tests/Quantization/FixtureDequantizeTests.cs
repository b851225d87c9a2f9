using Retort.Engine.Formats.Gguf;
using Retort.Engine.Quantization;
using Retort.Engine.Tensors;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Quantization;

/// <summary>The quantized/half fixture GGUFs, dequantized, match the f32 fixture tensor by tensor.</summary>
public class FixtureDequantizeTests
{
    internal static float[] Rows(TensorData t)
    {
        var all = new float[t.ElementCount];
        for (long r = 0; r < t.RowCount; r++)
            Dequantize.Row(t.Type, t.RowBytes(r), all.AsSpan((int)(r * t.RowLength), (int)t.RowLength));
        return all;
    }

    [Theory]
    [InlineData("qwen2-micro", "f16")]
    [InlineData("qwen2-micro", "bf16")]
    [InlineData("qwen2-micro", "q8_0")]
    [InlineData("qwen2-tiny", "f16")]
    [InlineData("qwen2-tiny", "bf16")]
    [InlineData("qwen2-tiny", "q8_0")]
    public void EveryTensorMatchesF32(string model, string variant)
    {
        using var f32 = GgufFile.Open(Fixtures.Path(model, "gguf", $"{model}-f32.gguf"));
        using var other = GgufFile.Open(Fixtures.Path(model, "gguf", $"{model}-{variant}.gguf"));
        Assert.Equal(f32.Tensors.Keys.Order(), other.Tensors.Keys.Order());
        int nonF32 = 0;
        foreach (TensorData reference in f32.TensorList)
        {
            TensorData t = other.Tensors[reference.Name];
            Assert.Equal(reference.Shape, t.Shape);
            if (t.Type != GgmlType.F32) nonF32++;
            float[] expected = Rows(reference);
            float[] actual = Rows(t);
            for (int blk = 0; blk < expected.Length / 32; blk++)
            {
                float amax = 0;
                for (int i = 0; i < 32; i++) amax = Math.Max(amax, Math.Abs(expected[blk * 32 + i]));
                for (int i = blk * 32; i < blk * 32 + 32; i++)
                {
                    double bound = t.Type switch
                    {
                        GgmlType.F32 => 0,
                        GgmlType.F16 => Math.Abs(expected[i]) * Math.Pow(2, -11) + 6e-8,
                        GgmlType.BF16 => Math.Abs(expected[i]) * Math.Pow(2, -8),
                        GgmlType.Q8_0 => amax / 127 * 0.5 + amax * 1e-3,
                        _ => throw new InvalidOperationException($"unexpected type {t.Type}"),
                    };
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= bound,
                        $"{reference.Name}[{i}] {t.Type}: expected {expected[i]}, got {actual[i]}");
                }
            }
        }
        Assert.True(nonF32 > 0, "the fixture should hold some non-F32 tensors");
    }

    [Fact]
    public void ReferenceQ8_0QuantizerReproducesTheConvertersBytes()
    {
        using var f32 = GgufFile.Open(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));
        using var q8 = GgufFile.Open(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-q8_0.gguf"));
        TensorData src = f32.Tensors["token_embd.weight"], dst = q8.Tensors["token_embd.weight"];
        Assert.Equal(GgmlType.Q8_0, dst.Type);
        var row = new float[src.RowLength];
        var bytes = new byte[dst.RowByteLength];
        for (long r = 0; r < src.RowCount; r++)
        {
            Dequantize.Row(GgmlType.F32, src.RowBytes(r), row);
            Quantize.Row(GgmlType.Q8_0, row, bytes);
            Assert.True(dst.RowBytes(r).SequenceEqual(bytes), $"row {r}");
        }
    }
}
