using Retort.Engine.Quantization;
using Retort.Engine.Tensors;
using Retort.Training.Losses;
using Retort.Training.Model;
using Retort.Training.Tests.Support;

namespace Retort.Training.Tests.Model;

/// <summary>QAT: the forward inside a fake-quantization scope is the quantized model's; gradients pass straight through to the master weights.</summary>
public class FakeQuantizationTests
{
    private static readonly int[] Tokens = [3, 17, 5, 9, 30, 11, 2, 38, 7, 21];

    private static TrainingBatch Batch() => TrainingBatch.FromLabels(1, Tokens.Length, Tokens, Tokens);

    /// <summary>The model whose layer weights went through Quantize.Row and Dequantize.Row, done here row by row.</summary>
    private static StudentModel RoundTripped(GgmlType type, out HashSet<string> changed)
    {
        var model = TinyModels.Create();
        changed = [];
        foreach (var p in model.BaseParameters)
        {
            if (!p.Name.StartsWith("model.layers.", StringComparison.Ordinal) || p.Shape.Count != 2 || p.Shape[1] % 32 != 0) continue;
            int columns = p.Shape[1];
            var bytes = new byte[columns / 32 * (type == GgmlType.Q8_0 ? 34 : 18)];
            for (int r = 0; r < p.Length / columns; r++)
            {
                Quantize.Row(type, p.Value.AsSpan(r * columns, columns), bytes);
                Dequantize.Row(type, bytes, p.Value.AsSpan(r * columns, columns));
            }
            changed.Add(p.Name);
        }
        return model;
    }

    private static float[] ForwardBackward(StudentModel model, out float[] logits)
    {
        model.ZeroGradients();
        var batch = Batch();
        int v = model.OutputVocabulary;
        logits = model.Forward(batch).AsSpan(0, batch.TokenCount * v).ToArray();
        var grad = new float[logits.Length];
        TokenLosses.CrossEntropy(logits, batch.Targets, v, grad);
        model.Backward(grad);
        return [.. model.Parameters.SelectMany(p => p.Gradient)];
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void ForwardIsTheQuantizedModelsAndGradientsPassStraightThrough(GgmlType type)
    {
        using var reference = RoundTripped(type, out var changed);
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", changed);
        Assert.Contains("model.layers.1.mlp.up_proj.weight", changed);
        var expectedGradient = ForwardBackward(reference, out var expectedLogits);

        using var model = TinyModels.Create();
        var master = model.Parameters.Select(p => (float[])p.Value.Clone()).ToList();
        Assert.Equal(changed.Order(), FakeQuantization.Targets(model).Select(p => p.Name).Order());
        float[] gradient, logits;
        using (FakeQuantization.Apply(model, type)) gradient = ForwardBackward(model, out logits);

        Assert.Equal(expectedLogits, logits);
        // Straight through: d loss / d master weight is d loss / d quantized weight, bit for bit.
        Assert.Equal(expectedGradient, gradient);
        // The master weights are back, and they are not the quantized ones.
        for (int i = 0; i < master.Count; i++) Assert.Equal(master[i], model.Parameters[i].Value);
        var q = model.Parameters.First(p => p.Name == "model.layers.0.self_attn.q_proj.weight");
        Assert.NotEqual(reference.Parameters.First(p => p.Name == q.Name).Value, q.Value);

        // Without the scope the float model computes something else.
        ForwardBackward(model, out var floatLogits);
        Assert.NotEqual(expectedLogits, floatLogits);
    }

    [Fact]
    public void OnlyQ8AndQ4AreAccepted()
    {
        var e = Assert.Throws<Retort.Engine.RetortException>(() => FakeQuantization.Validate(GgmlType.Q4_K));
        Assert.Equal("--qat supports q8_0 and q4_0, found q4_k", e.Message);
    }
}
