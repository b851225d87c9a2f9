using Retort.Engine.Kernels;
using Retort.Training.Kernels;

namespace Retort.Training.Model;

/// <summary>
/// Grouped-query causal attention over a batch, forward and backward, with the document mask of
/// <see cref="TrainingBatch"/>. Each head's queries go in blocks of 64 rows through the matrix
/// kernel (scores = Q Kᵀ over the keys the block may see, masked softmax, P V). The forward pass
/// keeps only the output and each row's log-sum-exp; the backward pass recomputes the probabilities
/// from them (as FlashAttention does), so memory stays linear in the sequence length. Forward work
/// items are (row, query head); backward items are (row, KV head), so the key and value gradients
/// of a group are written by one thread.
/// </summary>
internal sealed class CausalAttention : IRangeJob
{
    private const int QueryBlock = 64;

    [ThreadStatic] private static Workspace? s_workspace;

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
        var w = s_workspace ??= new Workspace();
        w.Ensure(_batch.Length, _headDim);
        for (int item = begin; item < end; item++)
        {
            if (_backward) BackwardGroup(w, item / _kvHeads, item % _kvHeads);
            else ForwardHead(w, item / _heads, item % _heads);
        }
    }

    private void ForwardHead(Workspace w, int row, int h)
    {
        int d = _headDim, length = _batch.Length, kvHead = h / (_heads / _kvHeads);
        Gather(_q, _heads, h, row, w.Q);
        Gather(_k, _kvHeads, kvHead, row, w.K);
        Gather(_v, _kvHeads, kvHead, row, w.V);
        for (int i0 = 0; i0 < length; i0 += QueryBlock)
        {
            int i1 = Math.Min(i0 + QueryBlock, length), rows = i1 - i0;
            int j0 = _batch.DocumentStart[row * length + i0], keys = i1 - j0;
            w.MatMul.Multiply(w.Q.AsSpan(i0 * d), false, w.K.AsSpan(j0 * d), true, w.S, rows, keys, d, accumulate: false);
            for (int i = i0; i < i1; i++)
            {
                var s = w.S.AsSpan((i - i0) * keys, keys);
                int first = _batch.DocumentStart[row * length + i] - j0, last = i - j0;
                float max = float.NegativeInfinity;
                for (int j = first; j <= last; j++) max = MathF.Max(max, s[j] * _scale);
                float sum = 0f;
                for (int j = 0; j < keys; j++)
                {
                    float e = j >= first && j <= last ? MathF.Exp(s[j] * _scale - max) : 0f;
                    s[j] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                for (int j = first; j <= last; j++) s[j] *= inv;
                _lse[(row * _heads + h) * length + i] = max + MathF.Log(sum);
            }
            w.MatMul.Multiply(w.S, false, w.V.AsSpan(j0 * d), false, w.O.AsSpan(i0 * d), rows, d, keys, accumulate: false);
        }
        Scatter(w.O, _out, _heads, h, row);
    }

    private void BackwardGroup(Workspace w, int row, int kvHead)
    {
        int d = _headDim, length = _batch.Length, group = _heads / _kvHeads;
        Gather(_k, _kvHeads, kvHead, row, w.K);
        Gather(_v, _kvHeads, kvHead, row, w.V);
        Array.Clear(w.DK, 0, length * d);
        Array.Clear(w.DV, 0, length * d);
        for (int h = kvHead * group; h < (kvHead + 1) * group; h++)
        {
            Gather(_q, _heads, h, row, w.Q);
            Gather(_dOut, _heads, h, row, w.DO);
            Gather(_out, _heads, h, row, w.O);
            for (int i0 = 0; i0 < length; i0 += QueryBlock)
            {
                int i1 = Math.Min(i0 + QueryBlock, length), rows = i1 - i0;
                int j0 = _batch.DocumentStart[row * length + i0], keys = i1 - j0;
                w.MatMul.Multiply(w.Q.AsSpan(i0 * d), false, w.K.AsSpan(j0 * d), true, w.S, rows, keys, d, accumulate: false);
                w.MatMul.Multiply(w.DO.AsSpan(i0 * d), false, w.V.AsSpan(j0 * d), true, w.DS, rows, keys, d, accumulate: false);
                for (int i = i0; i < i1; i++)
                {
                    var p = w.S.AsSpan((i - i0) * keys, keys);
                    var ds = w.DS.AsSpan((i - i0) * keys, keys);
                    int first = _batch.DocumentStart[row * length + i] - j0, last = i - j0;
                    float lse = _lse[(row * _heads + h) * length + i];
                    // Σ_j p_j dp_j = dO_i · O_i: the softmax backward's correction term without a second pass.
                    float correction = VectorMath.Dot(w.DO.AsSpan(i * d, d), w.O.AsSpan(i * d, d));
                    for (int j = 0; j < keys; j++)
                    {
                        float pj = j >= first && j <= last ? MathF.Exp(p[j] * _scale - lse) : 0f;
                        p[j] = pj;
                        ds[j] = pj * (ds[j] - correction) * _scale;
                    }
                }
                w.MatMul.Multiply(w.DS, false, w.K.AsSpan(j0 * d), false, w.DQ.AsSpan(i0 * d), rows, d, keys, accumulate: false);
                w.MatMul.Multiply(w.DS, true, w.Q.AsSpan(i0 * d), false, w.DK.AsSpan(j0 * d), keys, d, rows, accumulate: true);
                w.MatMul.Multiply(w.S, true, w.DO.AsSpan(i0 * d), false, w.DV.AsSpan(j0 * d), keys, d, rows, accumulate: true);
            }
            Scatter(w.DQ, _dq, _heads, h, row);
        }
        Scatter(w.DK, _dk, _kvHeads, kvHead, row);
        Scatter(w.DV, _dv, _kvHeads, kvHead, row);
    }

    /// <summary>Copies head h of every token of a batch row into a contiguous [length, d] block.</summary>
    private void Gather(float[] source, int heads, int h, int row, float[] target)
    {
        int d = _headDim, length = _batch.Length, stride = heads * d;
        for (int t = 0; t < length; t++) Array.Copy(source, (row * length + t) * stride + h * d, target, t * d, d);
    }

    private void Scatter(float[] block, float[] target, int heads, int h, int row)
    {
        int d = _headDim, length = _batch.Length, stride = heads * d;
        for (int t = 0; t < length; t++) Array.Copy(block, t * d, target, (row * length + t) * stride + h * d, d);
    }

    /// <summary>One thread's buffers: a head's Q, K, V, O and their gradients, and a block of scores.</summary>
    private sealed class Workspace
    {
        public readonly MatMul MatMul = new(null);
        public float[] Q = [], K = [], V = [], O = [], DO = [], DQ = [], DK = [], DV = [], S = [], DS = [];

        public void Ensure(int length, int d)
        {
            if (Q.Length >= length * d) return;
            Q = new float[length * d];
            K = new float[length * d];
            V = new float[length * d];
            O = new float[length * d];
            DO = new float[length * d];
            DQ = new float[length * d];
            DK = new float[length * d];
            DV = new float[length * d];
            S = new float[QueryBlock * length];
            DS = new float[QueryBlock * length];
        }
    }
}
