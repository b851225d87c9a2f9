using Retort.Engine.Conversion;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Tensors;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>
/// The SIMD kernel path (quantized activations for quantized weights) against the float32 reference
/// path that dequantizes every row, on whole models.
/// </summary>
public sealed class KernelPathTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("retort-kernel-path-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double MaxLogitGap(LoadedModel model, int[] prompt)
    {
        using var reference = new Transformer(model.Config, model.Weights, threads: -1);
        float[] expected = reference.Forward(prompt, reference.CreateCache(64), allLogits: true);
        float[] actual = model.Transformer.Forward(prompt, model.Transformer.CreateCache(64), allLogits: true);
        return expected.Select((e, i) => (double)Math.Abs(e - actual[i])).Max();
    }

    [Fact]
    public void Float32KernelsEqualTheReferencePath()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"));
        double gap = MaxLogitGap(model, ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[2]);
        Assert.True(gap < 1e-4, $"max gap {gap}");
    }

    [Theory]
    [InlineData("gguf/qwen2-tiny-q8_0.gguf", 0.3)]
    [InlineData("gguf/qwen2-tiny-f16.gguf", 1e-3)]
    [InlineData("gguf/qwen2-tiny-bf16.gguf", 1e-3)]
    public void QuantizedKernelsStayCloseToTheReferencePath(string source, double tolerance)
    {
        // Float weights: only summation order differs. Q8_0: the activations are rounded to 8 bits per
        // 32-block (error ≤ 1/254 of the block's largest value), the same kind of rounding the weights
        // already carry; this random model's large norms amplify it to 0.13 on logits spanning ±3 (the
        // weights' own rounding moves them 0.15 from f32). A broken kernel is off by whole units.
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-tiny", source));
        double gap = MaxLogitGap(model, ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[2]);
        Assert.True(gap < tolerance, $"max gap {gap}");
    }

    [Fact]
    public void Q4_0ModelRunsOnTheKernelsAndStaysNearTheF32Model()
    {
        string q4 = Path.Combine(_dir, "qwen2-tiny-q4_0.gguf");
        GgufRequantizer.Requantize(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"), q4, "q4_0");
        using var model = LoadedModel.Load(q4);
        var prompt = ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[2];
        Assert.Equal(GgmlType.Q4_0, model.Weights.Tensors["blk.0.ffn_up.weight"].Type);
        double gap = MaxLogitGap(model, prompt);
        Assert.True(gap < 0.3, $"kernel vs reference path: max gap {gap}");

        // 4-bit weights move the logits much more than 8-bit activations do (cosine 0.94 with the f32 logits
        // measured here); a broken Q4_0 layout would leave them uncorrelated (cosine near 0).
        var reference = ReferenceLogits.TransformersF32("qwen2-tiny");
        float[] logits = model.Transformer.Forward(prompt, model.Transformer.CreateCache(64), allLogits: true);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            dot += logits[i] * reference.Logits[2][i];
            na += logits[i] * logits[i];
            nb += reference.Logits[2][i] * reference.Logits[2][i];
        }
        Assert.True(dot / Math.Sqrt(na * nb) > 0.9, $"cosine {dot / Math.Sqrt(na * nb)}");
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    [InlineData("q4_k_m")]
    public void InterleavedWeightsGiveTheFileLayoutsLogits(string type)
    {
        // Same weights, same 8-bit activations: only the order of float sums differs (~1e-6). That
        // can flip one 8-bit rounding of a later layer's activations at some position, which this
        // random model amplifies to ~0.05 there and at the positions attending to it (measured:
        // 13 of 17 positions within 1.5e-6, the last four ≤ 0.05). A misplaced byte in the
        // re-layout moves every position by whole units.
        string path = Path.Combine(_dir, $"qwen2-tiny-{type}.gguf");
        GgufRequantizer.Requantize(Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"), path, type);
        using var model = LoadedModel.Load(path);
        using var fileLayout = new Transformer(model.Config, model.Weights, threads: 2, interleave: false);
        using var interleaved = new Transformer(model.Config, model.Weights, threads: 2, interleave: true);
        interleaved.WaitForInterleaving();
        var prompt = ReferenceLogits.TransformersF32("qwen2-tiny").Prompts[2];
        float[] expected = fileLayout.Forward(prompt, fileLayout.CreateCache(64), allLogits: true);
        float[] actual = interleaved.Forward(prompt, interleaved.CreateCache(64), allLogits: true);
        int vocab = model.Config.VocabSize;
        var gaps = Enumerable.Range(0, prompt.Length)
            .Select(p => Enumerable.Range(0, vocab).Max(v => (double)Math.Abs(expected[p * vocab + v] - actual[p * vocab + v])))
            .ToArray();
        Assert.True(gaps.Max() < 0.1, $"max gap {gaps.Max()}");
        Assert.True(gaps.Count(g => g < 1e-4) > prompt.Length / 2, $"gaps by position: {string.Join(", ", gaps)}");
    }
}
