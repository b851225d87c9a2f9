namespace Retort.Engine.Sampling;

/// <summary>
/// Picks the next token from logits, in the order Hugging Face's generate applies its processors:
/// penalties, temperature, top-k, top-p, min-p, then a draw from what is left.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;
    private readonly SamplingWorkspace _workspace;

    public Sampler(SamplingOptions options) : this(options, new SamplingWorkspace())
    {
    }

    /// <param name="workspace">Scratch memory lent by the caller (a generator's, reused request after request).</param>
    internal Sampler(SamplingOptions options, SamplingWorkspace workspace)
    {
        options.Validate();
        _options = options;
        _workspace = workspace;
        _random = options.Seed is int seed ? new Random(seed) : new Random();
    }

    /// <summary>Chooses a token. <paramref name="logits"/> is modified (penalties are applied in place).</summary>
    public int Sample(Span<float> logits, ReadOnlySpan<int> history)
    {
        ApplyPenalties(logits, history);
        if (_options.Temperature == 0f) return ArgMax(logits);

        // Only tokens within 30 nats (after temperature) of the best can matter: each of the rest has
        // probability below e^-30 relative to it, so sorting just the head keeps the sampler exact to
        // ~1e-8 while avoiding a full sort of a 150k vocabulary per token. The tail still counts in the sum.
        // Logits are scaled in double precision, as (logit - max) / T: no temperature that passed
        // validation, however small, can overflow them to infinity and turn the softmax into NaN.
        int n = logits.Length;
        double invT = 1.0 / _options.Temperature;
        float max = float.NegativeInfinity;
        for (int i = 0; i < n; i++) max = MathF.Max(max, logits[i]);
        double head = -30.0 * _options.Temperature;
        var candidates = _workspace.Candidates(n);
        int count = 0;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double d = (double)logits[i] - max;
            sum += Math.Exp(d * invT);
            if (d >= head) candidates[count++] = (logits[i], i);
        }
        var cand = candidates.AsSpan(0, count);
        // Ordering raw logits is ordering scaled ones: the temperature is positive.
        cand.Sort(static (a, b) => b.Logit != a.Logit ? b.Logit.CompareTo(a.Logit) : a.Id.CompareTo(b.Id));

        int keep = count;
        if (_options.TopK > 0)
        {
            keep = Math.Min(keep, _options.TopK);
            sum = 0;
            for (int i = 0; i < keep; i++) sum += Math.Exp(((double)cand[i].Logit - max) * invT);
        }
        var probs = _workspace.Probabilities(n).AsSpan(0, keep);
        for (int i = 0; i < keep; i++) probs[i] = Math.Exp(((double)cand[i].Logit - max) * invT) / sum;

        if (_options.TopP < 1f)
        {
            double cumulative = 0;
            for (int i = 0; i < keep; i++)
            {
                cumulative += probs[i];
                if (cumulative >= _options.TopP)
                {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (_options.MinP > 0f)
        {
            double threshold = probs[0] * _options.MinP;
            int k = 1;
            while (k < keep && probs[k] >= threshold) k++;
            keep = k;
        }

        double total = 0;
        for (int i = 0; i < keep; i++) total += probs[i];
        double r = _random.NextDouble() * total;
        for (int i = 0; i < keep; i++)
        {
            r -= probs[i];
            if (r < 0) return cand[i].Id;
        }
        return cand[keep - 1].Id;
    }

    private void ApplyPenalties(Span<float> logits, ReadOnlySpan<int> history)
    {
        var o = _options;
        if (o.RepetitionPenalty == 1f && o.FrequencyPenalty == 0f && o.PresencePenalty == 0f) return;
        if (o.PenaltyWindow > 0 && history.Length > o.PenaltyWindow) history = history[^o.PenaltyWindow..];
        var counts = _workspace.Counts;
        counts.Clear();
        foreach (int id in history)
            if ((uint)id < (uint)logits.Length) counts[id] = counts.GetValueOrDefault(id) + 1;
        foreach (var (id, count) in counts)
        {
            float l = logits[id];
            if (o.RepetitionPenalty != 1f) l = l > 0 ? l / o.RepetitionPenalty : l * o.RepetitionPenalty;
            l -= count * o.FrequencyPenalty + o.PresencePenalty;
            logits[id] = l;
        }
    }

    /// <summary>The index of the largest logit; ties go to the lowest id, as torch.argmax does.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
}
