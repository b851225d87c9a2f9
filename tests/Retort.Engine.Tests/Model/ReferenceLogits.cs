using System.Runtime.InteropServices;
using System.Text.Json;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>The prompts, logits and greedy continuations that transformers produced for a fixture model.</summary>
internal sealed record ReferenceLogits(int[][] Prompts, float[][] Logits, int[][] Greedy, int VocabSize)
{
    public static ReferenceLogits Load(string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path(model, "reference", "generation.json")));
        var prompts = doc.RootElement.GetProperty("prompts").EnumerateArray().ToArray();
        int vocab = doc.RootElement.GetProperty("vocab_size").GetInt32();
        using var st = SafeTensorsFile.Open(Fixtures.Path(model, "reference", "logits.safetensors"));
        var logits = new float[prompts.Length][];
        for (int i = 0; i < prompts.Length; i++)
            logits[i] = MemoryMarshal.Cast<byte, float>(st.Tensors[$"logits.{i}"].AllBytes()).ToArray();
        return new ReferenceLogits(
            prompts.Select(p => p.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray(),
            logits,
            prompts.Select(p => p.GetProperty("greedy_24").EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray(),
            vocab);
    }
}
