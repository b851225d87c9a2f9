using Retort.Engine.Kernels;

namespace Retort.Engine.Model;

/// <summary>
/// Causal grouped-query attention for a batch of rows, one (row, head) pair per work item, so the
/// worker pool can share it without allocating per call. Each row attends to its own cache up to its
/// own position: the rows of a prompt share one cache, those of a decode batch each have their own.
/// </summary>
internal sealed unsafe class AttentionJob : IRangeJob
{
    [ThreadStatic] private static float[]? t_scores;

    private float[] _q = [], _output = [];
    private KvCache[] _caches = [];
    private int[] _positions = [];
    private int _layer, _heads, _headDim, _group;
    private float _scale;

    public void Prepare(float[] q, float[] output, KvCache[] caches, int[] positions, int layer, ModelConfig c)
    {
        (_q, _output, _caches, _positions, _layer) = (q, output, caches, positions, layer);
        (_heads, _headDim, _group) = (c.HeadCount, c.HeadDim, c.HeadCount / c.KvHeadCount);
        _scale = 1f / MathF.Sqrt(c.HeadDim);
    }

    public void Execute(int begin, int end)
    {
        int hd = _headDim, qSize = _heads * hd;
        for (int job = begin; job < end; job++)
        {
            int i = job / _heads, h = job % _heads;
            var cache = _caches[i];
            int kvRow = cache.RowSize;
            int kvOffset = h / _group * hd;
            int positions = _positions[i] + 1;
            if (t_scores == null || t_scores.Length < positions) t_scores = new float[Math.Max(positions, 1024)];
            Span<float> scores = t_scores.AsSpan(0, positions);
            ReadOnlySpan<float> query = _q.AsSpan(i * qSize + h * hd, hd);
            Span<float> o = _output.AsSpan(i * qSize + h * hd, hd);
            o.Clear();
            if (cache.Type == KvCacheType.F16)
            {
                AttendF16(cache, query, scores, o, kvRow, kvOffset, hd);
                continue;
            }
            AttendF32(cache, query, scores, o, kvRow, kvOffset, hd);
        }
    }

    /// <summary>The same attention over an f16 cache: halves are widened inside the loops.</summary>
    private void AttendF16(KvCache cache, ReadOnlySpan<float> query, Span<float> scores, Span<float> o, int kvRow, int kvOffset, int hd)
    {
        fixed (ushort* keys = cache.LayerKeysF16(_layer), values = cache.LayerValuesF16(_layer))
        fixed (float* q = query, po = o, ps = scores)
        {
            AttentionKernels.ScoresF16(q, keys + kvOffset, kvRow, scores.Length, hd, _scale, ps);
            VectorMath.Softmax(scores);
            AttentionKernels.WeightedSumF16(po, values + kvOffset, kvRow, ps, scores.Length, hd);
        }
    }

    private void AttendF32(KvCache cache, ReadOnlySpan<float> query, Span<float> scores, Span<float> o, int kvRow, int kvOffset, int hd)
    {
        fixed (float* keys = cache.LayerKeys(_layer), values = cache.LayerValues(_layer))
        fixed (float* q = query, po = o, ps = scores)
        {
            AttentionKernels.Scores(q, keys + kvOffset, kvRow, scores.Length, hd, _scale, ps);
            VectorMath.Softmax(scores);
            AttentionKernels.WeightedSum(po, values + kvOffset, kvRow, ps, scores.Length, hd);
        }
    }
}
