using Retort.Engine.Tensors;

namespace Retort.Engine.Kernels;

/// <summary>
/// y = W·x for a batch of activation rows: W is rows×cols in its GGUF type (one row per output),
/// x is batch×cols floats, y is batch×rows floats (token-major). Activations are quantized once per
/// call, then row ranges are spread over the worker pool. For batch &gt; 1 each range is a small tile
/// of rows that stays in cache while every token passes over it, so the weights are read from
/// memory once per call rather than once per token.
/// Holds reusable buffers and one preallocated job: use one instance per thread issuing matmuls.
/// </summary>
internal sealed unsafe class MatMulKernel : IRangeJob
{
    // Rows per work item: at least 4 items per thread for balance on a shared machine, yet long
    // runs, because the 4-row kernels prefetch a few groups ahead within the same weights and
    // that runs into another thread's rows (wasted) at each chunk end.
    private int RowGrain => Math.Clamp(_rows / (_pool.ThreadCount * 4), 16, 512) & ~3;

    /// <summary>Weight bytes per row tile when batch &gt; 1: well inside a 1 MiB L2.</summary>
    internal const long TileBytes = 128 * 1024;

    private readonly WorkerPool _pool;
    private readonly QuantizedActivations _act = new();

    private GgmlType _type;
    private byte* _w;
    private long _rowBytes;
    private int _rows;
    private int _cols;
    private float* _x;
    private float* _y;
    private int _batch;
    private InterleavedWeights? _packed;

    private readonly QuantizeJob _quantize;

    public MatMulKernel(WorkerPool pool)
    {
        _pool = pool;
        _quantize = new QuantizeJob(_act);
    }

    public WorkerPool Pool => _pool;

    /// <summary>True when MatMul accepts weights of this type.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K;

    /// <summary>
    /// y (batch × RowCount) = weight · x (batch × RowLength), for a weight tensor as loaded.
    /// reuseInput: x is the previous call's input, unchanged (Q, K and V read one normed input), so
    /// its quantized form is kept when the format matches.
    /// </summary>
    public void MatMul(TensorData weight, float* x, float* y, int batch, bool reuseInput = false)
    {
        if (weight.RowCount > int.MaxValue || weight.RowLength > int.MaxValue)
            throw new RetortException($"matmul: tensor {weight.Name} is too large ({weight.RowCount} rows of {weight.RowLength})");
        MatMul(weight.Type, weight.Pointer, weight.RowByteLength, (int)weight.RowCount, (int)weight.RowLength, x, y, batch, reuseInput);
    }

    /// <summary>
    /// y[t·rows + r] = Σ_c W[r, c]·x[t·cols + c] for t &lt; batch, r &lt; rows. weights holds rows rows
    /// of cols elements of weightType, rowBytes apart. Quantized types see x quantized to 8 bits.
    /// </summary>
    public void MatMul(GgmlType weightType, byte* weights, long rowBytes, int rows, int cols, float* x, float* y, int batch, bool reuseInput = false)
    {
        if (!Supports(weightType)) throw new RetortException($"matmul: weight type {weightType} is not supported");
        if (rows < 0 || cols <= 0 || batch < 0) throw new RetortException($"matmul: bad shape rows={rows} cols={cols} batch={batch}");
        long need = GgmlTypeInfo.RowBytes(weightType, cols);
        if (rowBytes < need) throw new RetortException($"matmul: row stride {rowBytes} bytes is shorter than a {weightType} row of {cols} ({need} bytes)");
        if (rows == 0 || batch == 0) return;

        switch (weightType)
        {
            case GgmlType.Q8_0 or GgmlType.Q4_0: QuantizeInput(ActivationFormat.Q8, x, cols, batch, reuseInput); break;
            case GgmlType.Q4_K or GgmlType.Q6_K: QuantizeInput(ActivationFormat.Q8K, x, cols, batch, reuseInput); break;
            default: if (!reuseInput) ForgetInput(); break;
        }

        _type = weightType;
        _w = weights;
        _rowBytes = rowBytes;
        _rows = rows;
        _cols = cols;
        _x = x;
        _y = y;
        _batch = batch;
        _pool.Run(this, rows, RowGrain);
        _w = null;
        _x = null;
        _y = null;
    }

    /// <summary>y (batch × Rows) = weights · x (batch × Cols) for weights interleaved at load (reuseInput as above).</summary>
    public void MatMul(InterleavedWeights weights, float* x, float* y, int batch, bool reuseInput = false)
    {
        if (batch < 0) throw new RetortException($"matmul: bad batch {batch}");
        if (batch == 0) return;
        QuantizeInput(weights.Format == InterleavedFormat.Q4_K ? ActivationFormat.Q8K : ActivationFormat.Q8, x, weights.Cols, batch, reuseInput);
        _packed = weights;
        _rows = weights.Rows;
        _cols = weights.Cols;
        _y = y;
        _batch = batch;
        int groups = weights.Rows / weights.GroupRows;
        _pool.Run(this, groups, Math.Max(1, RowGrain / weights.GroupRows));
        _packed = null;
        _y = null;
    }

    /// <summary>
    /// Marks the quantized activations stale. Every call without reuseInput either quantizes its
    /// input or forgets: a later reuseInput call then never meets an older input at the same address.
    /// </summary>
    public void ForgetInput() => _act.Forget();

    /// <summary>Quantizes x into the activation buffers (prompt rows spread over the pool), unless reuseInput and they already hold it.</summary>
    private void QuantizeInput(ActivationFormat format, float* x, int cols, int batch, bool reuseInput)
    {
        if (reuseInput && _act.Source == x && _act.Format == format && _act.Cols == cols && _act.Batch == batch) return;
        _act.Prepare(format, x, cols, batch);
        if (batch >= 8 && _pool.ThreadCount > 1) _pool.Run(_quantize, batch, 4);
        else for (int t = 0; t < batch; t++) _act.QuantizeRow(t);
    }

    private sealed class QuantizeJob(QuantizedActivations act) : IRangeJob
    {
        public void Execute(int begin, int end)
        {
            for (int t = begin; t < end; t++) act.QuantizeRow(t);
        }
    }

    void IRangeJob.Execute(int begin, int end)
    {
        if (_packed != null)
        {
            ExecuteInterleaved(_packed, begin, end);
            return;
        }
        // For a batch, walk the chunk in row tiles small enough to stay in L2 while every token
        // passes over them (token-inner), so weights come from memory once per call; each
        // token's quantized activations stay in L1 across the tile.
        int tileRows = _batch == 1 ? end - begin : Math.Max(4, (int)Math.Min(end - begin, TileBytes / _rowBytes) & ~3);
        for (int r0 = begin; r0 < end; r0 += tileRows)
        {
            int r1 = Math.Min(end, r0 + tileRows);
            int t = 0;
            if (_type == GgmlType.Q4_0 && DotQ4_0.HasDot4)
            {
                for (; t + 2 <= _batch; t += 2) RowsQ4_0TokenPair(r0, r1, t);
            }
            else if (_type is GgmlType.Q4_K or GgmlType.Q6_K && (KernelPaths.Best is KernelPath.AvxVnni or KernelPath.Avx2))
            {
                for (; t + 2 <= _batch; t += 2) RowsKQuantTokenPair(r0, r1, t);
            }
            for (; t < _batch; t++) Rows(r0, r1, t, coldStart: r0 == begin && t == 0);
        }
    }

    /// <summary>Groups [begin, end) of interleaved rows: 8-token (Q4_0 on 512 bits) and 4-token tiles over L2-sized runs of groups, then single tokens.</summary>
    private void ExecuteInterleaved(InterleavedWeights w, int begin, int end)
    {
        int tileGroups = _batch == 1 ? end - begin : (int)Math.Clamp(TileBytes / w.GroupBytes, 1, end - begin);
        var format = w.Format;
        int blocks = w.Blocks;
        int groupRows = w.GroupRows;
        var a = _act;
        for (int g0 = begin; g0 < end; g0 += tileGroups)
        {
            int g1 = Math.Min(end, g0 + tileGroups);
            int t = 0;
            if (format == InterleavedFormat.Q4_0 && DotInterleaved.Q4_0Wide)
            {
                for (; t + 8 <= _batch; t += 8)
                {
                    float* y = _y + (long)t * _rows;
                    for (int g = g0; g < g1; g++)
                        DotInterleaved.Tile8Q4_0Wide(w.Group(g), blocks, a.Q(t), a.D(t), a.BlockSums(t), _cols, y + groupRows * g, _rows);
                }
            }
            for (; t + DotInterleaved.TileTokens <= _batch; t += DotInterleaved.TileTokens)
            {
                float* y = _y + (long)t * _rows;
                for (int g = g0; g < g1; g++)
                {
                    float* yg = y + groupRows * g;
                    if (format == InterleavedFormat.Q4_K && DotInterleaved.Q4_KWide && g + 1 < g1)
                    {
                        DotInterleaved.Tile4Q4_KWide(w.Group(g), w.Group(g + 1), blocks,
                            a.Q(t), a.Q(t + 1), a.Q(t + 2), a.Q(t + 3), a.D(t), a.D(t + 1), a.D(t + 2), a.D(t + 3),
                            a.Sums32(t), a.Sums32(t + 1), a.Sums32(t + 2), a.Sums32(t + 3),
                            yg, yg + _rows, yg + 2L * _rows, yg + 3L * _rows);
                        g++;
                        continue;
                    }
                    if (format == InterleavedFormat.Q4_K)
                    {
                        DotInterleaved.Tile4Q4_K(w.Group(g), blocks,
                            a.Q(t), a.Q(t + 1), a.Q(t + 2), a.Q(t + 3), a.D(t), a.D(t + 1), a.D(t + 2), a.D(t + 3),
                            a.Sums32(t), a.Sums32(t + 1), a.Sums32(t + 2), a.Sums32(t + 3),
                            yg, yg + _rows, yg + 2L * _rows, yg + 3L * _rows);
                        continue;
                    }
                    DotInterleaved.Tile4(format, w.Group(g), blocks,
                        a.Q(t), a.Q(t + 1), a.Q(t + 2), a.Q(t + 3), a.D(t), a.D(t + 1), a.D(t + 2), a.D(t + 3),
                        a.BlockSums(t), a.BlockSums(t + 1), a.BlockSums(t + 2), a.BlockSums(t + 3),
                        yg, yg + _rows, yg + 2L * _rows, yg + 3L * _rows);
                }
            }
            for (; t < _batch; t++)
            {
                float* y = _y + (long)t * _rows;
                for (int g = g0; g < g1; g++)
                {
                    // Single tokens stay on 256 bits for Q4_K: reading two groups' records side by side
                    // measured slower for decode (two streams), and the results are the same.
                    if (format == InterleavedFormat.Q4_K) DotInterleaved.Tile1Q4_K(w.Group(g), blocks, a.Q(t), a.D(t), a.Sums32(t), y + groupRows * g);
                    else DotInterleaved.Tile1(format, w.Group(g), blocks, a.Q(t), a.D(t), a.BlockSums(t), y + groupRows * g);
                }
            }
        }
    }

    private void RowsQ4_0TokenPair(int begin, int end, int t)
    {
        float* y0 = _y + (long)t * _rows, y1 = y0 + _rows;
        int r = begin;
        for (; r + 4 <= end; r += 4)
        {
            DotQ4_0.Dot4x2(_w + r * _rowBytes, _rowBytes, _act.Q(t), _act.D(t), _act.Sum4(t),
                _act.Q(t + 1), _act.D(t + 1), _act.Sum4(t + 1), _cols / 32, y0 + r, y1 + r);
        }
        for (; r < end; r++)
        {
            y0[r] = RowDot(_w + r * _rowBytes, t);
            y1[r] = RowDot(_w + r * _rowBytes, t + 1);
        }
    }

    private void RowsKQuantTokenPair(int begin, int end, int t)
    {
        float* y0 = _y + (long)t * _rows, y1 = y0 + _rows;
        for (int r = begin; r < end; r++)
        {
            if (_type == GgmlType.Q6_K)
            {
                DotQ6_K.Dot1x2(_w + r * _rowBytes, _act.Q(t), _act.D(t), _act.BSums(t), _act.Q(t + 1), _act.D(t + 1), _act.BSums(t + 1),
                    _cols / 256, out y0[r], out y1[r]);
                continue;
            }
            DotQ4_K.Dot1x2(_w + r * _rowBytes, _act.Q(t), _act.D(t), _act.BSums(t), _act.Q(t + 1), _act.D(t + 1), _act.BSums(t + 1),
                _cols / 256, out y0[r], out y1[r]);
        }
    }

    private void Rows(int begin, int end, int t, bool coldStart)
    {
        float* yt = _y + (long)t * _rows;
        int r = begin;
        bool q4 = _type == GgmlType.Q4_0 && DotQ4_0.HasDot4;
        bool q8 = _type == GgmlType.Q8_0 && DotQ8_0.HasDot4;
        if (coldStart && (q4 || q8))
            PrefetchAhead(_w + begin * _rowBytes, Math.Min(end - begin, 4 * DotQ4_0.PrefetchGroups) * _rowBytes);
        if (q4)
        {
            for (; r + 4 <= end; r += 4)
                DotQ4_0.Dot4(_w + r * _rowBytes, _rowBytes, _act.Q(t), _act.D(t), _act.Sum4(t), _cols / 32, yt + r);
        }
        else if (q8)
        {
            for (; r + 4 <= end; r += 4)
                DotQ8_0.Dot4(_w + r * _rowBytes, _rowBytes, _act.Q(t), _act.D(t), _act.Sum4(t), _cols / 32, yt + r);
        }
        for (; r < end; r++) yt[r] = RowDot(_w + r * _rowBytes, t);
    }

    /// <summary>
    /// The 4-row kernels prefetch the groups a fixed distance ahead, so the first groups of a
    /// chunk would start cold: request them up front.
    /// </summary>
    private static void PrefetchAhead(byte* p, long bytes)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (long o = 0; o < bytes; o += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + o);
    }

    private float RowDot(byte* w, int t)
    {
        int cols = _cols;
        switch (_type)
        {
            case GgmlType.Q4_0: return DotQ4_0.Dot(w, _act.Q(t), _act.D(t), _act.S(t), cols / 32);
            case GgmlType.Q8_0: return DotQ8_0.Dot(w, _act.Q(t), _act.D(t), cols / 32);
            case GgmlType.Q4_K: return DotQ4_K.Dot(w, _act.Q(t), _act.D(t), _act.BSums(t), cols / 256);
            case GgmlType.Q6_K: return DotQ6_K.Dot(w, _act.Q(t), _act.D(t), _act.BSums(t), cols / 256);
            case GgmlType.F16: return DotF16.Dot((ushort*)w, _x + (long)t * cols, cols);
            case GgmlType.BF16: return DotBF16.Dot((ushort*)w, _x + (long)t * cols, cols);
            default: return DotF32.Dot((float*)w, _x + (long)t * cols, cols);
        }
    }
}
