using System.Runtime.InteropServices;
using System.Text.Json;
using Retort.Engine.Formats.SafeTensors;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>Prompts, logits and greedy continuations that transformers produced for a fixture model.</summary>
internal sealed record ReferenceLogits(int[][] Prompts, float[][] Logits, int[][] Greedy, int VocabSize)
{
    /// <summary>
    /// The shared fixture's reference, made by a model round-tripped through bfloat16
    /// (bf16 weights, bf16-rounded RoPE frequencies; see Reference/README.md).
    /// </summary>
    public static ReferenceLogits SharedFixture(string model) => Load(
        Fixtures.Path(model, "reference", "generation.json"), Fixtures.Path(model, "reference", "logits.safetensors"));

    /// <summary>transformers on the f32 HF folder (tools/reference/make_reference.py).</summary>
    public static ReferenceLogits TransformersF32(string model) => Load(
        Path.Combine(AppContext.BaseDirectory, "Reference", "Data", $"{model}-f32-generation.json"),
        Path.Combine(AppContext.BaseDirectory, "Reference", "Data", $"{model}-f32-logits.safetensors"));

    private static ReferenceLogits Load(string generationJson, string logitsFile)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(generationJson));
        var prompts = doc.RootElement.GetProperty("prompts").EnumerateArray().ToArray();
        using var st = SafeTensorsFile.Open(logitsFile);
        var logits = new float[prompts.Length][];
        for (int i = 0; i < prompts.Length; i++)
            logits[i] = MemoryMarshal.Cast<byte, float>(st.Tensors[$"logits.{i}"].AllBytes()).ToArray();
        int vocab = (int)st.Tensors["logits.0"].RowLength;
        return new ReferenceLogits(
            prompts.Select(p => p.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray(),
            logits,
            prompts.Select(p => p.GetProperty("greedy_24").EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray(),
            vocab);
    }
}
