using Retort.Engine.Kernels;

namespace Retort.Engine.Model;

/// <summary>
/// Causal grouped-query attention of n new queries over the cached positions, one (token, head) pair
/// per work item, so the worker pool can share it without allocating per call.
/// </summary>
internal sealed class AttentionJob : IRangeJob
{
    [ThreadStatic] private static float[]? t_scores;

    private float[] _q = [], _output = [], _keys = [], _values = [];
    private int _heads, _headDim, _group, _kvRow, _start;
    private float _scale;

    public void Prepare(float[] q, float[] output, float[] keys, float[] values, int start, ModelConfig c, int kvRow)
    {
        (_q, _output, _keys, _values, _start) = (q, output, keys, values, start);
        (_heads, _headDim, _group, _kvRow) = (c.HeadCount, c.HeadDim, c.HeadCount / c.KvHeadCount, kvRow);
        _scale = 1f / MathF.Sqrt(c.HeadDim);
    }

    public void Execute(int begin, int end)
    {
        int hd = _headDim, qSize = _heads * hd;
        for (int job = begin; job < end; job++)
        {
            int i = job / _heads, h = job % _heads;
            int kvOffset = h / _group * hd;
            int positions = _start + i + 1;
            if (t_scores == null || t_scores.Length < positions) t_scores = new float[Math.Max(positions, 1024)];
            Span<float> scores = t_scores.AsSpan(0, positions);
            ReadOnlySpan<float> query = _q.AsSpan(i * qSize + h * hd, hd);
            for (int p = 0; p < positions; p++)
                scores[p] = VectorMath.Dot(query, _keys.AsSpan(p * _kvRow + kvOffset, hd)) * _scale;
            VectorMath.Softmax(scores);
            Span<float> o = _output.AsSpan(i * qSize + h * hd, hd);
            o.Clear();
            for (int p = 0; p < positions; p++)
                VectorMath.AddScaled(o, _values.AsSpan(p * _kvRow + kvOffset, hd), scores[p]);
        }
    }
}
