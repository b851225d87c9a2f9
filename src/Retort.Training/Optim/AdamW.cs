namespace Retort.Training.Optim;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter): Adam moments with bias correction and weight decay applied
/// directly to the weights (decoupled), as torch.optim.AdamW does:
/// w -= lr·wd·w; m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²; w -= lr·m̂/(√v̂ + eps).
/// </summary>
public sealed class AdamW(int size, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
{
    private readonly float[] _m = new float[size];
    private readonly float[] _v = new float[size];

    /// <summary>Steps taken so far (bias correction uses it).</summary>
    public int Step { get; private set; }

    /// <summary>The first-moment estimates m (a checkpoint saves and restores them).</summary>
    internal float[] FirstMoment => _m;

    /// <summary>The second-moment estimates v.</summary>
    internal float[] SecondMoment => _v;

    /// <summary>Puts the optimizer back to a checkpointed state.</summary>
    internal void Restore(int step, ReadOnlySpan<float> m, ReadOnlySpan<float> v)
    {
        if (m.Length != _m.Length || v.Length != _v.Length) throw new ArgumentException("moment sizes differ from the optimizer's");
        Step = step;
        m.CopyTo(_m);
        v.CopyTo(_v);
    }

    public void Update(Span<float> weights, ReadOnlySpan<float> gradient, double learningRate)
    {
        if (weights.Length != _m.Length || gradient.Length != _m.Length) throw new ArgumentException("weights and gradient must match the optimizer size");
        Step++;
        var c1 = 1 - Math.Pow(beta1, Step);
        var c2 = 1 - Math.Pow(beta2, Step);
        for (var i = 0; i < weights.Length; i++)
        {
            double w = weights[i], g = gradient[i];
            w -= learningRate * weightDecay * w;
            var m = beta1 * _m[i] + (1 - beta1) * g;
            var v = beta2 * _v[i] + (1 - beta2) * g * g;
            _m[i] = (float)m;
            _v[i] = (float)v;
            w -= learningRate * (m / c1) / (Math.Sqrt(v / c2) + epsilon);
            weights[i] = (float)w;
        }
    }

    /// <summary>
    /// Linear warm-up from 0 to <paramref name="peak"/> over <paramref name="warmup"/> steps, then
    /// cosine decay to <paramref name="floor"/> at <paramref name="total"/> (step counts from 0).
    /// </summary>
    public static double Schedule(int step, int warmup, int total, double peak, double floor = 0)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        if (step >= total) return floor;
        var progress = (double)(step - warmup) / Math.Max(1, total - warmup);
        return floor + 0.5 * (peak - floor) * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>Scales the gradients so their global L2 norm is at most maxNorm; returns the norm before.</summary>
    public static double ClipByGlobalNorm(IReadOnlyList<float[]> gradients, double maxNorm)
    {
        double sum = 0;
        foreach (var g in gradients) foreach (var x in g) sum += (double)x * x;
        var norm = Math.Sqrt(sum);
        // torch.nn.utils.clip_grad_norm_ uses max_norm / (norm + 1e-6).
        var scale = maxNorm / (norm + 1e-6);
        if (scale < 1)
            foreach (var g in gradients) for (var i = 0; i < g.Length; i++) g[i] = (float)(g[i] * scale);
        return norm;
    }
}
