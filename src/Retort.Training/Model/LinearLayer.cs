using Retort.Training.Kernels;

namespace Retort.Training.Model;

/// <summary>
/// y = x Wᵀ + b (+ scaling · dropout(x) Aᵀ Bᵀ with a LoRA adapter) over a batch of rows, and its
/// backward pass. The adapter keeps its own activations (the dropped-out input and scaling·x Aᵀ)
/// from the last forward pass.
/// </summary>
internal sealed class LinearLayer
{
    private float[] _dropped = [];
    private float[] _dropMask = [];
    private float[] _down = [];
    private float[] _dDown = [];
    private float[] _dDropped = [];

    public LinearLayer(Parameter weight, Parameter? bias)
    {
        Weight = weight;
        Bias = bias;
        Out = weight.Shape[0];
        In = weight.Shape[1];
    }

    public Parameter Weight { get; }

    public Parameter? Bias { get; }

    public int In { get; }

    public int Out { get; }

    public Parameter? LoraA { get; private set; }

    public Parameter? LoraB { get; private set; }

    public double LoraScaling { get; private set; }

    public double LoraDropout { get; private set; }

    public void AttachLora(Parameter a, Parameter b, double scaling, double dropout)
    {
        LoraA = a;
        LoraB = b;
        LoraScaling = scaling;
        LoraDropout = dropout;
    }

    public void DetachLora() => LoraA = LoraB = null;

    public void Forward(MatMul mm, float[] x, float[] y, int n, Random? dropout)
    {
        mm.Multiply(x, false, Weight.Value, true, y, n, Out, In, accumulate: false);
        if (Bias != null)
        {
            var b = Bias.Value;
            for (int t = 0; t < n; t++) Retort.Engine.Kernels.VectorMath.Add(y.AsSpan(t * Out, Out), b);
        }
        if (LoraA == null || LoraB == null) return;
        int r = LoraA.Shape[0];
        float[] input = x;
        if (dropout != null && LoraDropout > 0)
        {
            Ensure(ref _dropped, n * In);
            Ensure(ref _dropMask, n * In);
            float keep = (float)(1 / (1 - LoraDropout));
            for (int i = 0; i < n * In; i++)
            {
                _dropMask[i] = dropout.NextDouble() < LoraDropout ? 0f : keep;
                _dropped[i] = x[i] * _dropMask[i];
            }
            input = _dropped;
        }
        else
        {
            _dropMask = [];
        }
        Ensure(ref _down, n * r);
        mm.Multiply(input, false, LoraA.Value, true, _down, n, r, In, accumulate: false);
        float s = (float)LoraScaling;
        for (int i = 0; i < n * r; i++) _down[i] *= s;
        mm.Multiply(_down, false, LoraB.Value, true, y, n, Out, r, accumulate: true);
    }

    /// <summary>Adds d loss / d parameters to the trainable gradients and writes (or adds) dx.</summary>
    public void Backward(MatMul mm, float[] x, float[] dy, float[] dx, int n, bool accumulateInput)
    {
        if (Weight.Trainable) mm.Multiply(dy, true, x, false, Weight.Gradient, Out, In, n, accumulate: true);
        if (Bias is { Trainable: true })
        {
            var g = Bias.Gradient;
            for (int t = 0; t < n; t++) Retort.Engine.Kernels.VectorMath.Add(g, dy.AsSpan(t * Out, Out));
        }
        mm.Multiply(dy, false, Weight.Value, false, dx, n, In, Out, accumulateInput);
        if (LoraA == null || LoraB == null) return;
        int r = LoraA.Shape[0];
        if (LoraB.Trainable) mm.Multiply(dy, true, _down, false, LoraB.Gradient, Out, r, n, accumulate: true);
        Ensure(ref _dDown, n * r);
        mm.Multiply(dy, false, LoraB.Value, false, _dDown, n, r, Out, accumulate: false);
        float s = (float)LoraScaling;
        for (int i = 0; i < n * r; i++) _dDown[i] *= s;
        bool dropped = _dropMask.Length > 0;
        if (LoraA.Trainable) mm.Multiply(_dDown, true, dropped ? _dropped : x, false, LoraA.Gradient, r, In, n, accumulate: true);
        if (!dropped)
        {
            mm.Multiply(_dDown, false, LoraA.Value, false, dx, n, In, r, accumulate: true);
            return;
        }
        Ensure(ref _dDropped, n * In);
        mm.Multiply(_dDown, false, LoraA.Value, false, _dDropped, n, In, r, accumulate: false);
        for (int i = 0; i < n * In; i++) dx[i] += _dDropped[i] * _dropMask[i];
    }

    private static void Ensure(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
