using Retort.Engine;
using Retort.Engine.Quantization;
using Retort.Engine.Tensors;

namespace Retort.Training.Model;

/// <summary>
/// Quantization-aware training: while a scope is open, the decoder layers' weight matrices hold
/// their round trip through Retort's quantizer (what a GGUF of that type will compute with); the
/// float32 master values come back on <see cref="Dispose"/>. A forward and backward run inside the
/// scope therefore see the quantized model, and the gradient with respect to the quantized weight is
/// applied to the master weight unchanged: the straight-through estimator (d round(w) / dw taken as 1).
/// Embeddings, the head, norms, biases and LoRA adapters stay float; so do matrices whose rows are
/// not a whole number of 32-element blocks.
/// </summary>
internal sealed class FakeQuantization : IDisposable
{
    private readonly List<(Parameter Parameter, float[] Master)> _saved = [];

    private FakeQuantization(StudentModel model, GgmlType type)
    {
        foreach (var p in Targets(model))
        {
            _saved.Add((p, (float[])p.Value.Clone()));
            RoundTrip(type, p.Value, p.Shape[1]);
        }
    }

    /// <summary>Opens a scope (null type: nothing is quantized).</summary>
    public static IDisposable? Apply(StudentModel model, GgmlType? type) => type is { } t ? new FakeQuantization(model, t) : null;

    /// <summary>The parameters QAT quantizes.</summary>
    public static IEnumerable<Parameter> Targets(StudentModel model) => model.BaseParameters.Where(p =>
        p.Name.StartsWith("model.layers.", StringComparison.Ordinal) && p.Shape.Count == 2 && p.Shape[1] % 32 == 0);

    /// <summary>Checks that Retort can fake-quantize to this type (the 32-element block types QAT supports).</summary>
    public static void Validate(GgmlType type)
    {
        if (type is not (GgmlType.Q8_0 or GgmlType.Q4_0))
            throw new RetortException($"--qat supports q8_0 and q4_0, found {type.ToString().ToLowerInvariant()}");
    }

    /// <summary>Each row of a [rows, columns] matrix through quantize and dequantize, in place.</summary>
    internal static void RoundTrip(GgmlType type, float[] values, int columns)
    {
        var bytes = new byte[columns / GgmlTypeInfo.BlockSize(type) * GgmlTypeInfo.BlockBytes(type)];
        for (int offset = 0; offset < values.Length; offset += columns)
        {
            var row = values.AsSpan(offset, columns);
            Quantize.Row(type, row, bytes);
            Dequantize.Row(type, bytes, row);
        }
    }

    public void Dispose()
    {
        foreach (var (p, master) in _saved) master.CopyTo(p.Value, 0);
    }
}
