using System.Runtime.InteropServices;
using Retort.Engine.IO;
using Retort.Engine.Kernels;
using Retort.Engine.Quantization;
using Retort.Engine.Tensors;

namespace Retort.Engine.Model;

/// <summary>
/// y = W·x + b for a weight matrix that stays in its file's type (f32, f16, bf16 or a quant
/// type): each row is dequantized once per call into a float32 scratch row and dotted with every
/// input in the batch, so a batch of prompt tokens pays for one pass over the weights.
/// </summary>
internal sealed class Linear : IDisposable
{
    private const int RowsPerChunk = 16;

    private readonly TensorData _weight;
    private readonly float[]? _bias;
    private InterleavedWeights? _interleaved;

    public Linear(TensorData weight, float[]? bias)
    {
        _weight = weight;
        _bias = bias;
        InputSize = checked((int)weight.RowLength);
        OutputSize = checked((int)weight.RowCount);
        if (bias != null && bias.Length != OutputSize)
            throw new RetortException($"bias of '{weight.Name}' has {bias.Length} elements, expected {OutputSize}");
    }

    public int InputSize { get; }

    public int OutputSize { get; }

    public TensorData Weight => _weight;

    /// <summary>True once the kernels read this weight from its interleaved copy.</summary>
    public bool IsInterleaved => _interleaved != null;

    /// <summary>
    /// Repacks Q4_0/Q8_0/Q4_K weights into interleaved row groups for <see cref="DotInterleaved"/>
    /// when this CPU has those kernels, then drops the file pages just copied so memory is
    /// charged once. The float32 reference path keeps reading the file's bytes.
    /// </summary>
    public unsafe void Interleave(WorkerPool? pool)
    {
        if (_interleaved != null || !InterleavedWeights.CanPack(_weight.Type, _weight.RowCount, _weight.RowLength)) return;
        if (!DotInterleaved.IsSupported(InterleavedWeights.FormatOf(_weight.Type)!.Value)) return;
        var packed = InterleavedWeights.Pack(_weight.Type, _weight.Pointer, _weight.RowByteLength, OutputSize, InputSize, pool);
        // Published whole: a concurrent Forward sees either the file layout or the finished copy.
        Volatile.Write(ref _interleaved, packed);
        // A Forward still reading the file layout just faults those pages back in from the cache.
        if (_weight.FileMapped) PageAdvice.Release(_weight.Pointer, _weight.ByteLength);
    }

    public void Dispose()
    {
        _interleaved?.Dispose();
        _interleaved = null;
    }

    /// <summary>
    /// y[t, :] = W · x[t, :] + b for t in [0, batch). With a kernel, weight types it supports run on the
    /// quantized SIMD kernels (activations quantized to 8 bits for quantized weights); the rest, and
    /// the reference path, dequantize each row to float32.
    /// </summary>
    /// <remarks>reuseInput: x is the previous Forward's input, unchanged, so its quantized form can be kept.</remarks>
    public unsafe void Forward(MatMulKernel? kernel, float[] x, float[] y, int batch, bool reuseInput = false)
    {
        if (kernel == null || !MatMulKernel.Supports(_weight.Type))
        {
            if (!reuseInput) kernel?.ForgetInput();
            Forward(x, y, batch);
            return;
        }
        if (x.Length < batch * InputSize || y.Length < batch * OutputSize)
            throw new ArgumentException("activation buffers are smaller than the batch");
        fixed (float* px = x, py = y)
        {
            var interleaved = Volatile.Read(ref _interleaved);
            if (interleaved != null) kernel.MatMul(interleaved, px, py, batch, reuseInput);
            else kernel.MatMul(_weight, px, py, batch, reuseInput);
        }
        if (_bias != null)
            for (int t = 0; t < batch; t++) VectorMath.Add(y.AsSpan(t * OutputSize, OutputSize), _bias);
    }

    /// <summary>The float32 reference path: y[t, :] = W · x[t, :] + b for t in [0, batch).</summary>
    public void Forward(float[] x, float[] y, int batch)
    {
        int chunks = (OutputSize + RowsPerChunk - 1) / RowsPerChunk;
        if ((long)chunks * InputSize * batch < 1 << 16)
        {
            for (int c = 0; c < chunks; c++) ForwardChunk(x, y, batch, c);
        }
        else
        {
            Parallel.For(0, chunks, c => ForwardChunk(x, y, batch, c));
        }
    }

    private void ForwardChunk(float[] x, float[] y, int batch, int chunk)
    {
        int rowStart = chunk * RowsPerChunk;
        int rowEnd = Math.Min(rowStart + RowsPerChunk, OutputSize);
        Span<float> row = _weight.Type == GgmlType.F32 ? default : ScratchRow(InputSize);
        for (int r = rowStart; r < rowEnd; r++)
        {
            ReadOnlySpan<byte> bytes = _weight.RowBytes(r);
            ReadOnlySpan<float> w;
            if (_weight.Type == GgmlType.F32)
            {
                w = MemoryMarshal.Cast<byte, float>(bytes);
            }
            else
            {
                Dequantize.Row(_weight.Type, bytes, row);
                w = row;
            }
            float b = _bias?[r] ?? 0f;
            for (int t = 0; t < batch; t++)
                y[t * OutputSize + r] = VectorMath.Dot(w, x.AsSpan(t * InputSize, InputSize)) + b;
        }
    }

    [ThreadStatic] private static float[]? s_scratch;

    private static Span<float> ScratchRow(int length)
    {
        if (s_scratch == null || s_scratch.Length < length) s_scratch = new float[length];
        return s_scratch.AsSpan(0, length);
    }
}
