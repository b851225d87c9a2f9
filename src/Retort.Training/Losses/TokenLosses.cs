namespace Retort.Training.Losses;

/// <summary>
/// Token-level training losses over rows of logits ([rows, vocab], row-major) and their gradients
/// with respect to the student logits. A row takes part when its target is not
/// <see cref="IgnoreIndex"/>; every loss is the mean over taking-part rows, as transformers and TRL
/// compute them. Sums run in double so that the float32 results match PyTorch to rounding.
/// </summary>
public static class TokenLosses
{
    /// <summary>The label value that masks a position out (PyTorch's ignore_index).</summary>
    public const int IgnoreIndex = -100;

    /// <summary>
    /// Next-token targets for a [batch, seq] label array: row (b, t) for t &lt; seq-1 predicts
    /// labels[b, t+1], the shift that transformers' causal-LM loss applies. Returns [batch, seq-1].
    /// </summary>
    public static int[] ShiftLabels(ReadOnlySpan<int> labels, int batch, int seq)
    {
        if (labels.Length != batch * seq) throw new ArgumentException("labels must be batch*seq long", nameof(labels));
        var shifted = new int[batch * (seq - 1)];
        for (var b = 0; b < batch; b++)
            for (var t = 0; t < seq - 1; t++)
                shifted[b * (seq - 1) + t] = labels[b * seq + t + 1];
        return shifted;
    }

    /// <summary>Mean cross-entropy over rows whose target is not ignored; writes d loss / d logits.</summary>
    public static double CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocab, Span<float> gradient)
    {
        var rows = CheckShapes(logits, targets, vocab, gradient);
        var count = CountActive(targets);
        gradient.Clear();
        if (count == 0) return 0;
        var p = new double[vocab];
        double total = 0;
        for (var r = 0; r < rows; r++)
        {
            if (targets[r] == IgnoreIndex) continue;
            if ((uint)targets[r] >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(targets));
            LogSoftmax(logits.Slice(r * vocab, vocab), 1, p);
            total -= p[targets[r]];
            var g = gradient.Slice(r * vocab, vocab);
            for (var v = 0; v < vocab; v++) g[v] = (float)((Math.Exp(p[v]) - (v == targets[r] ? 1 : 0)) / count);
        }
        return total / count;
    }

    /// <summary>
    /// Forward KL distillation loss T² · KL(p_t ‖ p_s) at temperature T (Hinton et al.), mean over
    /// active rows; the T² keeps gradient magnitudes comparable across temperatures.
    /// </summary>
    public static double ForwardKl(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets, int vocab, double temperature, Span<float> gradient)
        => Divergence(student, teacher, targets, vocab, Uniform(temperature, targets.Length), DivergenceKind.Forward, 0, gradient);

    /// <summary>Forward KL with one temperature per row (adaptive and scheduled temperatures): each row is scaled by its own T².</summary>
    public static double ForwardKl(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets, int vocab, ReadOnlySpan<double> rowTemperatures, Span<float> gradient)
        => Divergence(student, teacher, targets, vocab, rowTemperatures, DivergenceKind.Forward, 0, gradient);

    /// <summary>Reverse KL with one temperature per row.</summary>
    public static double ReverseKl(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets, int vocab, ReadOnlySpan<double> rowTemperatures, Span<float> gradient)
        => Divergence(student, teacher, targets, vocab, rowTemperatures, DivergenceKind.Reverse, 0, gradient);

    /// <summary>Generalized JSD with one temperature per row.</summary>
    public static double GeneralizedJsd(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets, int vocab, double beta, ReadOnlySpan<double> rowTemperatures, Span<float> gradient)
    {
        if (!(beta > 0 && beta < 1)) throw new ArgumentOutOfRangeException(nameof(beta), "beta must lie strictly between 0 and 1");
        return Divergence(student, teacher, targets, vocab, rowTemperatures, DivergenceKind.Jsd, beta, gradient);
    }

    /// <summary>
    /// The gradient-matching term of the seeds: MSE(g_t, g_s) where g = d CE / d logits of each
    /// model per row at temperature 1, softmax(z) − onehot(target). The one-hot parts cancel, so it
    /// is mean over active rows and vocabulary entries of (p_s − p_t)², as torch's mse_loss averages
    /// over every element of the [active rows, vocab] tensors.
    /// </summary>
    public static double GradientMatchingMse(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets, int vocab, Span<float> gradient)
    {
        var rows = CheckShapes(student, targets, vocab, gradient);
        if (teacher.Length != student.Length) throw new ArgumentException("teacher and student logits differ in shape", nameof(teacher));
        var count = CountActive(targets);
        gradient.Clear();
        if (count == 0) return 0;
        var ls = new double[vocab];
        var lt = new double[vocab];
        var d = new double[vocab];
        double elements = (double)count * vocab, total = 0;
        for (var r = 0; r < rows; r++)
        {
            if (targets[r] == IgnoreIndex) continue;
            LogSoftmax(student.Slice(r * vocab, vocab), 1, ls);
            LogSoftmax(teacher.Slice(r * vocab, vocab), 1, lt);
            double dot = 0;
            for (var v = 0; v < vocab; v++)
            {
                d[v] = Math.Exp(ls[v]) - Math.Exp(lt[v]);
                total += d[v] * d[v];
                dot += Math.Exp(ls[v]) * d[v];
            }
            // d/dz_j Σ_v d_v² = 2·p_j·(d_j − Σ_v p_v·d_v), the softmax Jacobian applied to 2·d.
            var g = gradient.Slice(r * vocab, vocab);
            for (var v = 0; v < vocab; v++) g[v] = (float)(2 * Math.Exp(ls[v]) * (d[v] - dot) / elements);
        }
        return total / elements;
    }

    /// <summary>Reverse KL T² · KL(p_s ‖ p_t), mean over active rows.</summary>
    public static double ReverseKl(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets, int vocab, double temperature, Span<float> gradient)
        => Divergence(student, teacher, targets, vocab, Uniform(temperature, targets.Length), DivergenceKind.Reverse, 0, gradient);

    /// <summary>
    /// TRL's generalized Jensen-Shannon divergence: beta·KL(p_t ‖ m) + (1-beta)·KL(p_s ‖ m) with
    /// m = beta·p_t + (1-beta)·p_s, times T², mean over active rows. beta must lie in (0, 1); at the
    /// ends it degenerates to zero, so use the KL losses there.
    /// </summary>
    public static double GeneralizedJsd(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets, int vocab, double beta, double temperature, Span<float> gradient)
    {
        if (!(beta > 0 && beta < 1)) throw new ArgumentOutOfRangeException(nameof(beta), "beta must lie strictly between 0 and 1");
        return Divergence(student, teacher, targets, vocab, Uniform(temperature, targets.Length), DivergenceKind.Jsd, beta, gradient);
    }

    /// <summary>
    /// alpha·CE + (1-alpha)·forward KL at temperature T, the mix training.json's kd_total_loss uses;
    /// both parts share the active rows. Returns (total, ce, kd).
    /// </summary>
    public static (double Total, double CrossEntropy, double Distillation) Distillation(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets, int vocab, double temperature, double alpha, Span<float> gradient)
    {
        var ceGrad = new float[gradient.Length];
        var ce = CrossEntropy(student, targets, vocab, ceGrad);
        var kd = ForwardKl(student, teacher, targets, vocab, temperature, gradient);
        for (var i = 0; i < gradient.Length; i++) gradient[i] = (float)(alpha * ceGrad[i] + (1 - alpha) * gradient[i]);
        return (alpha * ce + (1 - alpha) * kd, ce, kd);
    }

    private enum DivergenceKind { Forward, Reverse, Jsd }

    private static double[] Uniform(double temperature, int rows)
    {
        var t = new double[rows];
        Array.Fill(t, temperature);
        return t;
    }

    private static double Divergence(ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets, int vocab, ReadOnlySpan<double> temperatures, DivergenceKind kind, double beta, Span<float> gradient)
    {
        var rows = CheckShapes(student, targets, vocab, gradient);
        if (temperatures.Length != rows) throw new ArgumentException("one temperature per row is needed", nameof(temperatures));
        foreach (var t in temperatures)
            if (!(t > 0)) throw new ArgumentOutOfRangeException(nameof(temperatures), "temperatures must be positive");
        if (teacher.Length != student.Length) throw new ArgumentException("teacher and student logits differ in shape", nameof(teacher));
        var count = CountActive(targets);
        gradient.Clear();
        if (count == 0) return 0;
        var ls = new double[vocab];
        var lt = new double[vocab];
        var dp = new double[vocab];
        double total = 0;
        for (var r = 0; r < rows; r++)
        {
            if (targets[r] == IgnoreIndex) continue;
            var temperature = temperatures[r];
            var t2 = temperature * temperature;
            LogSoftmax(student.Slice(r * vocab, vocab), temperature, ls);
            LogSoftmax(teacher.Slice(r * vocab, vocab), temperature, lt);
            // dp = d(row loss)/d p_s; the softmax chain rule below turns it into d/d logits.
            double loss = 0;
            for (var v = 0; v < vocab; v++)
            {
                double ps = Math.Exp(ls[v]), pt = Math.Exp(lt[v]);
                switch (kind)
                {
                    case DivergenceKind.Forward:
                        loss += pt * (lt[v] - ls[v]);
                        break;
                    case DivergenceKind.Reverse:
                        loss += ps * (ls[v] - lt[v]);
                        dp[v] = ls[v] - lt[v] + 1;
                        break;
                    default:
                        var m = beta * pt + (1 - beta) * ps;
                        var logM = Math.Log(m);
                        loss += beta * pt * (lt[v] - logM) + (1 - beta) * ps * (ls[v] - logM);
                        // The terms through m cancel: d/dp_s = (1-beta)·(log p_s - log m).
                        dp[v] = (1 - beta) * (ls[v] - logM);
                        break;
                }
            }
            total += t2 * loss;
            var g = gradient.Slice(r * vocab, vocab);
            var scale = t2 / temperature / count; // T² from the loss, 1/T from logits/T.
            if (kind == DivergenceKind.Forward)
            {
                for (var v = 0; v < vocab; v++) g[v] = (float)(scale * (Math.Exp(ls[v]) - Math.Exp(lt[v])));
                continue;
            }
            double dot = 0;
            for (var v = 0; v < vocab; v++) dot += Math.Exp(ls[v]) * dp[v];
            for (var v = 0; v < vocab; v++) g[v] = (float)(scale * Math.Exp(ls[v]) * (dp[v] - dot));
        }
        return total / count;
    }

    /// <summary>log softmax(x / temperature) into output; returns log Z.</summary>
    internal static double LogSoftmax(ReadOnlySpan<float> x, double temperature, double[] output)
    {
        var max = double.NegativeInfinity;
        for (var i = 0; i < x.Length; i++) max = Math.Max(max, x[i] / temperature);
        double sum = 0;
        for (var i = 0; i < x.Length; i++) sum += Math.Exp(x[i] / temperature - max);
        var logZ = max + Math.Log(sum);
        for (var i = 0; i < x.Length; i++) output[i] = x[i] / temperature - logZ;
        return logZ;
    }

    private static int CheckShapes(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int vocab, Span<float> gradient)
    {
        if (vocab <= 0 || logits.Length != targets.Length * vocab) throw new ArgumentException("logits must be rows*vocab long", nameof(logits));
        if (gradient.Length != logits.Length) throw new ArgumentException("gradient must match logits", nameof(gradient));
        return targets.Length;
    }

    private static int CountActive(ReadOnlySpan<int> targets)
    {
        var n = 0;
        foreach (var t in targets) if (t != IgnoreIndex) n++;
        return n;
    }
}
