namespace Retort.Engine.Sampling;

/// <summary>
/// The sampler's scratch memory: two vocabulary-sized arrays (a 151,936-token vocabulary makes them
/// 2.4 MB) and the penalty counts. A generator owns one and lends it to the sampler of each request it
/// runs, so a server's slot allocates them once instead of once per request. One sampler at a time.
/// </summary>
internal sealed class SamplingWorkspace
{
    private (float Logit, int Id)[] _candidates = [];
    private double[] _probabilities = [];

    public Dictionary<int, int> Counts { get; } = new(256);

    /// <summary>How many times the arrays had to grow (a test's view of reuse).</summary>
    internal int Allocations { get; private set; }

    public (float Logit, int Id)[] Candidates(int length)
    {
        if (_candidates.Length < length)
        {
            _candidates = new (float, int)[length];
            Allocations++;
        }
        return _candidates;
    }

    public double[] Probabilities(int length)
    {
        if (_probabilities.Length < length)
        {
            _probabilities = new double[length];
            Allocations++;
        }
        return _probabilities;
    }
}
