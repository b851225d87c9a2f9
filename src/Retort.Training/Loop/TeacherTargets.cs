using Retort.Training.Losses;

namespace Retort.Training.Loop;

/// <summary>
/// The distillation target of a batch from one or more teachers: per row a temperature (from the
/// schedule) and target logits z′ whose softmax at that temperature is the target distribution.
/// Several teachers are mixed as probabilities at the row's temperature, p = Σ wᵢ·softmax(zᵢ / T),
/// and z′ = T·log p, so every divergence applies to the mixture unchanged.
/// </summary>
internal static class TeacherTargets
{
    /// <summary>Where the run stands, 0 at the first step and 1 at the last (the position of linear schedules).</summary>
    public static double Fraction(int step, int totalSteps) => totalSteps <= 1 ? 0 : Math.Clamp((double)step / (totalSteps - 1), 0, 1);

    /// <summary>a + (b − a)·fraction.</summary>
    public static double Linear(double start, double end, double fraction) => start + (end - start) * fraction;

    /// <summary>One temperature per row; <paramref name="targetAtOne"/> is the target's logits at T = 1 (adaptive reads its entropy).</summary>
    public static double[] RowTemperatures(TrainingOptions o, double fraction, ReadOnlySpan<float> targetAtOne, int vocab)
    {
        int rows = targetAtOne.Length / vocab;
        var result = new double[rows];
        double end = o.TemperatureEnd ?? o.Temperature;
        switch (o.TemperatureSchedule)
        {
            case TemperatureSchedule.Constant:
                Array.Fill(result, o.Temperature);
                break;
            case TemperatureSchedule.Linear:
                Array.Fill(result, Linear(o.Temperature, end, fraction));
                break;
            default:
                var logp = new double[vocab];
                double maxEntropy = Math.Log(vocab);
                for (int r = 0; r < rows; r++)
                {
                    TokenLosses.LogSoftmax(targetAtOne.Slice(r * vocab, vocab), 1, logp);
                    double entropy = 0;
                    foreach (double l in logp) entropy -= Math.Exp(l) * l;
                    double h = vocab > 1 ? Math.Clamp(entropy / maxEntropy, 0, 1) : 0;
                    result[r] = o.Temperature + (end - o.Temperature) * (1 - h);
                }
                break;
        }
        return result;
    }

    /// <summary>
    /// The weighted mixture of the teachers at each row's temperature as logits z′ = T·log p
    /// (the first teacher's own logits when there is only one, so single-teacher runs are unchanged).
    /// </summary>
    public static float[] Mixture(IReadOnlyList<float[]> teachers, IReadOnlyList<double> weights, ReadOnlySpan<double> rowTemperatures, int vocab)
    {
        if (teachers.Count == 1) return teachers[0];
        int rows = rowTemperatures.Length;
        var result = new float[rows * vocab];
        var logp = new double[vocab];
        var mix = new double[vocab];
        for (int r = 0; r < rows; r++)
        {
            double t = rowTemperatures[r];
            Array.Clear(mix);
            for (int i = 0; i < teachers.Count; i++)
            {
                TokenLosses.LogSoftmax(teachers[i].AsSpan(r * vocab, vocab), t, logp);
                for (int v = 0; v < vocab; v++) mix[v] += weights[i] * Math.Exp(logp[v]);
            }
            // A probability that underflows to 0 becomes a very negative logit, not −∞, so 0·log 0 stays 0 downstream.
            for (int v = 0; v < vocab; v++) result[r * vocab + v] = (float)(t * Math.Log(Math.Max(mix[v], 1e-300)));
        }
        return result;
    }

    /// <summary>Teacher weights normalized to sum 1 (uniform when none are given).</summary>
    public static double[] NormalizedWeights(IReadOnlyList<double>? weights, int teachers)
    {
        if (weights == null || weights.Count == 0) return Enumerable.Repeat(1.0 / teachers, teachers).ToArray();
        if (weights.Count != teachers)
            throw new Engine.RetortException($"--teacher-weights has {weights.Count} values for {teachers} teachers; give one weight per --teacher");
        foreach (double w in weights)
            if (!(w >= 0) || double.IsInfinity(w)) throw new Engine.RetortException($"--teacher-weights must be non-negative numbers, found {w}");
        double sum = weights.Sum();
        if (!(sum > 0)) throw new Engine.RetortException("--teacher-weights must not all be zero");
        return weights.Select(w => w / sum).ToArray();
    }
}
