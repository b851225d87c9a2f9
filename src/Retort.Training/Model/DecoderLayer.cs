using Retort.Engine.Kernels;
using Retort.Engine.Model;
using Retort.Training.Kernels;

namespace Retort.Training.Model;

/// <summary>
/// One decoder layer with the activations of its last forward pass:
/// x += Wo·Attention(RoPE(Wq·n(x)+bq), RoPE(Wk·n(x)+bk), Wv·n(x)+bv); x += Wdown·(silu(Wgate·n(x)) ⊙ Wup·n(x)).
/// </summary>
internal sealed class DecoderLayer
{
    private readonly ModelConfig _config;
    private float[] _input = [], _rstd1 = [], _normed1 = [], _q = [], _k = [], _v = [], _attention = [], _lse = [];
    private float[] _middle = [], _rstd2 = [], _normed2 = [], _gate = [], _up = [], _activation = [];

    public DecoderLayer(ModelConfig config, Parameter attentionNorm, LinearLayer query, LinearLayer key, LinearLayer value,
        LinearLayer output, Parameter feedForwardNorm, LinearLayer gate, LinearLayer up, LinearLayer down)
    {
        _config = config;
        AttentionNorm = attentionNorm;
        Query = query;
        Key = key;
        Value = value;
        Output = output;
        FeedForwardNorm = feedForwardNorm;
        Gate = gate;
        Up = up;
        Down = down;
    }

    public Parameter AttentionNorm { get; }
    public LinearLayer Query { get; }
    public LinearLayer Key { get; }
    public LinearLayer Value { get; }
    public LinearLayer Output { get; }
    public Parameter FeedForwardNorm { get; }
    public LinearLayer Gate { get; }
    public LinearLayer Up { get; }
    public LinearLayer Down { get; }

    /// <summary>The layer's input hidden states [N, hidden] from the last forward pass.</summary>
    public float[] Input => _input;

    public IEnumerable<LinearLayer> Projections => [Query, Key, Value, Output, Gate, Up, Down];

    /// <summary>x [N, hidden] in, the layer's output in place.</summary>
    public void Forward(StudentContext ctx, TrainingBatch batch, float[] x, Random? dropout)
    {
        var c = _config;
        int n = batch.TokenCount, hidden = c.HiddenSize, d = c.HeadDim;
        int qSize = c.HeadCount * d, kvSize = c.KvHeadCount * d, ff = c.FeedForwardSize;
        Grow(ref _input, n * hidden);
        Grow(ref _rstd1, n);
        Grow(ref _normed1, n * hidden);
        Grow(ref _q, n * qSize);
        Grow(ref _k, n * kvSize);
        Grow(ref _v, n * kvSize);
        Grow(ref _attention, n * qSize);
        Grow(ref _lse, n * c.HeadCount);
        Grow(ref _middle, n * hidden);
        Grow(ref _rstd2, n);
        Grow(ref _normed2, n * hidden);
        Grow(ref _gate, n * ff);
        Grow(ref _up, n * ff);
        Grow(ref _activation, n * ff);
        var scratch = ctx.Scratch;

        Array.Copy(x, _input, n * hidden);
        TokenOps.RmsNorm(ctx.Range, x, AttentionNorm.Value, c.RmsNormEps, _normed1, _rstd1, n, hidden);
        Query.Forward(ctx.MatMul, _normed1, _q, n, dropout);
        Key.Forward(ctx.MatMul, _normed1, _k, n, dropout);
        Value.Forward(ctx.MatMul, _normed1, _v, n, dropout);
        TokenOps.Rope(ctx.Range, _q, c.HeadCount, d, c.RopeLayout, batch.Positions, ctx.Cos, ctx.Sin, n, inverse: false);
        TokenOps.Rope(ctx.Range, _k, c.KvHeadCount, d, c.RopeLayout, batch.Positions, ctx.Cos, ctx.Sin, n, inverse: false);
        ctx.Attention.Forward(ctx.Pool, batch, _q, _k, _v, _attention, _lse);
        Output.Forward(ctx.MatMul, _attention, scratch.Hidden, n, dropout);
        VectorMath.Add(x.AsSpan(0, n * hidden), scratch.Hidden.AsSpan(0, n * hidden));
        Array.Copy(x, _middle, n * hidden);

        TokenOps.RmsNorm(ctx.Range, x, FeedForwardNorm.Value, c.RmsNormEps, _normed2, _rstd2, n, hidden);
        Gate.Forward(ctx.MatMul, _normed2, _gate, n, dropout);
        Up.Forward(ctx.MatMul, _normed2, _up, n, dropout);
        TokenOps.SwiGlu(ctx.Range, _gate, _up, _activation, n * ff);
        Down.Forward(ctx.MatMul, _activation, scratch.Hidden, n, dropout);
        VectorMath.Add(x.AsSpan(0, n * hidden), scratch.Hidden.AsSpan(0, n * hidden));
    }

    /// <summary>dx [N, hidden]: d loss / d output in, d loss / d input out (in place); parameter gradients added.</summary>
    public void Backward(StudentContext ctx, TrainingBatch batch, float[] dx)
    {
        var c = _config;
        int n = batch.TokenCount, hidden = c.HiddenSize, d = c.HeadDim, ff = c.FeedForwardSize;
        var s = ctx.Scratch;

        Down.Backward(ctx.MatMul, _activation, dx, s.Activation, n, accumulateInput: false);
        TokenOps.SwiGluBackward(ctx.Range, _gate, _up, s.Activation, s.Gate, s.Up, n * ff);
        Gate.Backward(ctx.MatMul, _normed2, s.Gate, s.Hidden, n, accumulateInput: false);
        Up.Backward(ctx.MatMul, _normed2, s.Up, s.Hidden, n, accumulateInput: true);
        TokenOps.RmsNormBackward(ctx.Range, _middle, _rstd2, FeedForwardNorm, s.Hidden, dx, n, hidden);

        Output.Backward(ctx.MatMul, _attention, dx, s.Attention, n, accumulateInput: false);
        ctx.Attention.Backward(ctx.Pool, batch, _q, _k, _v, _attention, _lse, s.Attention, s.Query, s.Key, s.Value);
        TokenOps.Rope(ctx.Range, s.Query, c.HeadCount, d, c.RopeLayout, batch.Positions, ctx.Cos, ctx.Sin, n, inverse: true);
        TokenOps.Rope(ctx.Range, s.Key, c.KvHeadCount, d, c.RopeLayout, batch.Positions, ctx.Cos, ctx.Sin, n, inverse: true);
        Query.Backward(ctx.MatMul, _normed1, s.Query, s.Hidden, n, accumulateInput: false);
        Key.Backward(ctx.MatMul, _normed1, s.Key, s.Hidden, n, accumulateInput: true);
        Value.Backward(ctx.MatMul, _normed1, s.Value, s.Hidden, n, accumulateInput: true);
        TokenOps.RmsNormBackward(ctx.Range, _input, _rstd1, AttentionNorm, s.Hidden, dx, n, hidden);
    }

    private static void Grow(ref float[] buffer, int length) => LayerScratch.Grow(ref buffer, length);
}
