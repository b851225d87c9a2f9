using Retort.Training.Lora;
using Retort.Training.Losses;
using Retort.Training.Model;
using Retort.Training.Tests.Support;

namespace Retort.Training.Tests.Model;

/// <summary>
/// The student's gradients held to PyTorch's for every parameter of qwen2-micro: CE, logit
/// distillation (T = 2, alpha = 0.5) and LoRA (r 4, alpha 8, q_proj/v_proj). Float32 in a different
/// summation order agrees to ~1e-6 of a tensor's scale; the bounds (1e-4 scaled, 2e-3 elementwise
/// plus 1 % of scale) are far below what a wrong mask, shift, scale or transposition changes.
/// </summary>
public class FixtureGradientTests
{
    private const double Scaled = 1e-4;
    private const double Elementwise = 2e-3;

    [Fact]
    public void CrossEntropyGradientsMatchPyTorch()
    {
        using var model = TrainingReference.Student();
        var batch = TrainingReference.Batch();
        var logits = model.Forward(batch);
        var grad = new float[batch.TokenCount * TrainingReference.Vocabulary];
        double loss = TokenLosses.CrossEntropy(logits.AsSpan(0, grad.Length), batch.Targets, TrainingReference.Vocabulary, grad);
        Assert.Equal(TrainingReference.Number("ce_loss"), loss, 2e-5 * loss);
        model.Backward(grad);
        CompareAll(model.Parameters, "ce.grad.");
    }

    [Fact]
    public void DistillationGradientsMatchPyTorch()
    {
        using var model = TrainingReference.Student();
        var batch = TrainingReference.Batch();
        var logits = model.Forward(batch);
        var grad = new float[batch.TokenCount * TrainingReference.Vocabulary];
        var (total, _, kd) = TokenLosses.Distillation(logits.AsSpan(0, grad.Length), TrainingReference.TeacherLogits(batch), batch.Targets,
            TrainingReference.Vocabulary, TrainingReference.Number("kd_temperature"), TrainingReference.Number("kd_alpha"), grad);
        Assert.Equal(TrainingReference.Number("kd_forward_kl"), kd, 2e-5 * kd);
        Assert.Equal(TrainingReference.Number("kd_total_loss"), total, 2e-5 * total);
        model.Backward(grad);
        CompareAll(model.Parameters, "kd.grad.");
    }

    [Fact]
    public void LoraGradientsMatchPyTorch()
    {
        using var model = TrainingReference.Student();
        var json = TrainingReference.Json;
        var options = new LoraOptions
        {
            Rank = json.GetProperty("lora_rank").GetInt32(),
            Alpha = json.GetProperty("lora_alpha").GetDouble(),
            Targets = json.GetProperty("lora_targets").EnumerateArray().Select(e => e.GetString()!).ToArray(),
        };
        model.AttachLora(options, seed: 1);
        Assert.Equal(8, model.LoraParameters.Count);
        foreach (var p in model.LoraParameters) TrainingReference.Tensors["lora.weight." + p.Name].CopyTo(p.Value, 0);
        Assert.All(model.BaseParameters, p => Assert.False(p.Trainable));

        var batch = TrainingReference.Batch();
        var logits = model.Forward(batch, new Random(1));
        var grad = new float[batch.TokenCount * TrainingReference.Vocabulary];
        double loss = TokenLosses.CrossEntropy(logits.AsSpan(0, grad.Length), batch.Targets, TrainingReference.Vocabulary, grad);
        Assert.Equal(TrainingReference.Number("lora_ce_loss"), loss, 2e-5 * loss);
        model.Backward(grad);
        Assert.Equal(8, model.TrainableParameters.Count);
        CompareAll(model.TrainableParameters, "lora.grad.");
    }

    private static void CompareAll(IReadOnlyList<Parameter> parameters, string prefix)
    {
        var expectedNames = TrainingReference.Tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order().ToArray();
        Assert.Equal(expectedNames, parameters.Select(p => prefix + p.Name).Order().ToArray());
        foreach (var p in parameters)
            GradientAssert.Close(p.Name, p.Gradient, TrainingReference.Tensors[prefix + p.Name], Scaled, Elementwise);
    }
}
