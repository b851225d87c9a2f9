using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Retort.Engine.Kernels;
using Retort.Engine.Tensors;

namespace Retort.Benchmarks;

/// <summary>
/// Single-token matvec over the DeepSeek-R1-Distill-Qwen-1.5B projection shapes. Decode is
/// bandwidth-bound, so the figure that matters is GB/s of weight bytes streamed (see the GB/s column).
/// </summary>
public unsafe class MatVecBenchmarks
{
    private MatVecCase? _case;

    [Params("Q4_0", "Q8_0")]
    public string Type { get; set; } = "Q4_0";

    /// <summary>cols→rows: FFN up/gate, FFN down, LM head.</summary>
    [Params("1536x8960", "8960x1536", "1536x151936")]
    public string Shape { get; set; } = "1536x8960";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup() => _case = new MatVecCase(Enum.Parse<GgmlType>(Type), Shape, Threads);

    [GlobalCleanup]
    public void Cleanup() => _case?.Dispose();

    [Benchmark]
    public void MatVec() => _case!.Run();
}

/// <summary>One weight matrix, activations, output and pool; shared by the BenchmarkDotNet and quick runners.</summary>
internal sealed unsafe class MatVecCase : IDisposable
{
    private readonly GgmlType _type;
    private readonly int _rows, _cols;
    private readonly long _rowBytes;
    private readonly byte* _w;
    private readonly float* _x, _y;
    private readonly WorkerPool _pool;
    private readonly MatMulKernel _kernel;

    private readonly int _batch;
    private InterleavedWeights? _interleaved;
    private readonly WorkerPool _poolForPacking;

    public MatVecCase(GgmlType type, string shape, int threads, int batch = 1, bool interleaved = false)
    {
        _batch = batch;
        _type = type;
        (_cols, _rows) = ParseShape(shape);
        _rowBytes = GgmlTypeInfo.RowBytes(type, _cols);
        WeightBytes = _rowBytes * _rows;
        _w = (byte*)NativeMemory.AlignedAlloc((nuint)WeightBytes, 64);
        _x = (float*)NativeMemory.AlignedAlloc((nuint)_cols * (nuint)batch * 4, 64);
        _y = (float*)NativeMemory.AlignedAlloc((nuint)_rows * (nuint)batch * 4, 64);
        var rng = new Random(42);
        rng.NextBytes(new Span<byte>(_w, checked((int)WeightBytes)));
        // Realistic block scales: random bits could be subnormal or NaN and slow the float math.
        int bb = GgmlTypeInfo.BlockBytes(type);
        int[] scaleOffsets = type switch
        {
            GgmlType.Q4_K => [0, 2],
            GgmlType.Q6_K => [208],
            GgmlType.BF16 or GgmlType.F32 => [],
            _ => [0],
        };
        for (long o = 0; o < WeightBytes; o += bb)
            foreach (int so in scaleOffsets)
                *(ushort*)(_w + o + so) = BitConverter.HalfToUInt16Bits((Half)(0.001f + 0.01f * rng.NextSingle()));
        for (int i = 0; i < _cols * batch; i++) _x[i] = rng.NextSingle() * 2 - 1;
        _pool = new WorkerPool(threads);
        _kernel = new MatMulKernel(_pool);
        _poolForPacking = _pool;
        if (interleaved) _interleaved = InterleavedWeights.Pack(type, _w, _rowBytes, _rows, _cols, _pool);
    }

    public long WeightBytes { get; }

    public static (int Cols, int Rows) ParseShape(string shape)
    {
        string[] p = shape.Split('x');
        return (int.Parse(p[0]), int.Parse(p[1]));
    }

    /// <summary>Packs the weights again (measures load-time repacking).</summary>
    public void Repack()
    {
        _interleaved?.Dispose();
        _interleaved = InterleavedWeights.Pack(_type, _w, _rowBytes, _rows, _cols, _poolForPacking);
    }

    public void Run()
    {
        if (_interleaved != null) _kernel.MatMul(_interleaved, _x, _y, _batch);
        else _kernel.MatMul(_type, _w, _rowBytes, _rows, _cols, _x, _y, _batch);
    }

    public void Dispose()
    {
        _pool.Dispose();
        _interleaved?.Dispose();
        NativeMemory.AlignedFree(_w);
        NativeMemory.AlignedFree(_x);
        NativeMemory.AlignedFree(_y);
    }
}
