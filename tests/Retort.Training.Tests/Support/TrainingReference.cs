using System.Text.Json;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.Quantization;
using Retort.Tests.Support;
using Retort.Training.Model;

namespace Retort.Training.Tests.Support;

/// <summary>
/// qwen2-micro's training reference (training.json + training.safetensors): the batch, the losses
/// and PyTorch's gradients. The reference model was round-tripped through bf16 (weights and RoPE
/// frequencies) and its losses span the first 464 vocabulary columns only (the tokenizer's real
/// vocabulary; the head is padded to 512), see FixtureLossTests.
/// </summary>
internal static class TrainingReference
{
    public const int Vocabulary = 464;

    private static readonly Lazy<(JsonElement Json, Dictionary<string, float[]> Tensors)> Data = new(Load);

    public static JsonElement Json => Data.Value.Json;

    public static IReadOnlyDictionary<string, float[]> Tensors => Data.Value.Tensors;

    public static double Number(string key) => Json.GetProperty(key).GetDouble();

    public static string StudentFolder => Fixtures.Path("qwen2-micro", "hf-bf16");

    public static TrainingBatch Batch()
    {
        var ids = Json.GetProperty("input_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        var labels = Json.GetProperty("labels").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(e => e.GetInt32())).ToArray();
        return TrainingBatch.FromLabels(ids.Length, ids[0].Length, ids.SelectMany(r => r).ToArray(), labels);
    }

    /// <summary>kd.teacher_logits [2, 15, 464] laid out per batch token [2·16, 464]; the last token of a row (no target) gets zeros.</summary>
    public static float[] TeacherLogits(TrainingBatch batch)
    {
        var teacher = Tensors["kd.teacher_logits"];
        var result = new float[batch.TokenCount * Vocabulary];
        for (int r = 0; r < batch.Rows; r++)
            for (int t = 0; t < batch.Length - 1; t++)
                Array.Copy(teacher, (r * (batch.Length - 1) + t) * Vocabulary, result, (r * batch.Length + t) * Vocabulary, Vocabulary);
        return result;
    }

    public static StudentModel Student(int threads = 2)
    {
        var model = StudentModel.Load(StudentFolder, threads, ropeRoundedToBf16: true);
        model.OutputVocabulary = Vocabulary;
        return model;
    }

    private static (JsonElement, Dictionary<string, float[]>) Load()
    {
        var dir = Fixtures.Path("qwen2-micro", "reference");
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "training.json"))).RootElement.Clone();
        using var file = SafeTensorsFile.Open(Path.Combine(dir, "training.safetensors"));
        var tensors = file.TensorList.ToDictionary(t => t.Name, Dequantize.Tensor);
        return (json, tensors);
    }
}
