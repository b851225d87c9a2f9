using Retort.Engine.Kernels;

namespace Retort.Training.Model;

/// <summary>
/// Grouped-query causal attention over a batch, forward and backward, with the document mask of
/// <see cref="TrainingBatch"/>. The forward pass keeps only the output and each row's log-sum-exp;
/// the backward pass recomputes the probabilities from them (as FlashAttention does), so memory
/// stays linear in the sequence length. Forward work items are (row, query head); backward items
/// are (row, KV head) so the key and value gradients of a group are written by one thread.
/// </summary>
internal sealed class CausalAttention : IRangeJob
{
    [ThreadStatic] private static float[]? s_scores;

    private readonly int _heads, _kvHeads, _headDim;
    private readonly float _scale;

    private bool _backward;
    private TrainingBatch _batch = null!;
    private float[] _q = [], _k = [], _v = [], _out = [], _lse = [];
    private float[] _dOut = [], _dq = [], _dk = [], _dv = [];

    public CausalAttention(int heads, int kvHeads, int headDim)
    {
        _heads = heads;
        _kvHeads = kvHeads;
        _headDim = headDim;
        _scale = 1f / MathF.Sqrt(headDim);
    }

    /// <summary>out [N, heads·d] and lse [rows, heads, length] from q [N, heads·d], k and v [N, kvHeads·d].</summary>
    public void Forward(WorkerPool? pool, TrainingBatch batch, float[] q, float[] k, float[] v, float[] output, float[] lse)
    {
        _backward = false;
        _batch = batch;
        (_q, _k, _v, _out, _lse) = (q, k, v, output, lse);
        Run(pool, batch.Rows * _heads);
    }

    /// <summary>dq, dk, dv (overwritten) from dOut, with the tensors of the matching forward pass.</summary>
    public void Backward(WorkerPool? pool, TrainingBatch batch, float[] q, float[] k, float[] v, float[] output, float[] lse,
        float[] dOut, float[] dq, float[] dk, float[] dv)
    {
        _backward = true;
        _batch = batch;
        (_q, _k, _v, _out, _lse) = (q, k, v, output, lse);
        (_dOut, _dq, _dk, _dv) = (dOut, dq, dk, dv);
        int n = batch.TokenCount;
        Array.Clear(dq, 0, n * _heads * _headDim);
        Array.Clear(dk, 0, n * _kvHeads * _headDim);
        Array.Clear(dv, 0, n * _kvHeads * _headDim);
        Run(pool, batch.Rows * _kvHeads);
    }

    private void Run(WorkerPool? pool, int items)
    {
        if (pool != null) pool.Run(this, items, 1);
        else Execute(0, items);
        _batch = null!;
    }

    public void Execute(int begin, int end)
    {
        int length = _batch.Length;
        var scores = s_scores;
        if (scores == null || scores.Length < length) s_scores = scores = new float[length];
        for (int item = begin; item < end; item++)
        {
            if (_backward)
            {
                int row = item / _kvHeads, kvHead = item % _kvHeads;
                int group = _heads / _kvHeads;
                for (int h = kvHead * group; h < (kvHead + 1) * group; h++) BackwardHead(row, h, kvHead);
            }
            else
            {
                int row = item / _heads, h = item % _heads;
                ForwardHead(row, h, h / (_heads / _kvHeads), scores);
            }
        }
    }

    private void ForwardHead(int row, int h, int kvHead, float[] scores)
    {
        int d = _headDim, length = _batch.Length, qStride = _heads * d, kvStride = _kvHeads * d;
        int rowStart = row * length;
        for (int i = 0; i < length; i++)
        {
            int token = rowStart + i;
            int first = _batch.DocumentStart[token];
            var qi = _q.AsSpan(token * qStride + h * d, d);
            float max = float.NegativeInfinity;
            for (int j = first; j <= i; j++)
            {
                float s = VectorMath.Dot(qi, _k.AsSpan((rowStart + j) * kvStride + kvHead * d, d)) * _scale;
                scores[j] = s;
                max = MathF.Max(max, s);
            }
            float sum = 0f;
            for (int j = first; j <= i; j++)
            {
                float e = MathF.Exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }
            float inv = 1f / sum;
            var o = _out.AsSpan(token * qStride + h * d, d);
            o.Clear();
            for (int j = first; j <= i; j++)
                VectorMath.AddScaled(o, _v.AsSpan((rowStart + j) * kvStride + kvHead * d, d), scores[j] * inv);
            _lse[(row * _heads + h) * length + i] = max + MathF.Log(sum);
        }
    }

    private void BackwardHead(int row, int h, int kvHead)
    {
        int d = _headDim, length = _batch.Length, qStride = _heads * d, kvStride = _kvHeads * d;
        int rowStart = row * length;
        for (int i = 0; i < length; i++)
        {
            int token = rowStart + i;
            int first = _batch.DocumentStart[token];
            var qi = _q.AsSpan(token * qStride + h * d, d);
            var dOi = _dOut.AsSpan(token * qStride + h * d, d);
            float lse = _lse[(row * _heads + h) * length + i];
            // Σ_j p_j dp_j = dO_i · O_i: the softmax backward's correction term without a second pass.
            float correction = VectorMath.Dot(dOi, _out.AsSpan(token * qStride + h * d, d));
            var dqi = _dq.AsSpan(token * qStride + h * d, d);
            for (int j = first; j <= i; j++)
            {
                int key = (rowStart + j) * kvStride + kvHead * d;
                float p = MathF.Exp(VectorMath.Dot(qi, _k.AsSpan(key, d)) * _scale - lse);
                float dp = VectorMath.Dot(dOi, _v.AsSpan(key, d));
                float ds = p * (dp - correction) * _scale;
                VectorMath.AddScaled(dqi, _k.AsSpan(key, d), ds);
                VectorMath.AddScaled(_dk.AsSpan(key, d), qi, ds);
                VectorMath.AddScaled(_dv.AsSpan(key, d), dOi, p);
            }
        }
    }
}
