namespace Retort.Engine.Model;

/// <summary>
/// Activations of one forward pass, kept between calls and grown only when a larger batch arrives,
/// so that decoding a token allocates nothing.
/// </summary>
internal sealed class ForwardBuffers(ModelConfig config)
{
    private int _tokens;
    private int _logitRows;

    public float[] X { get; private set; } = [];
    public float[] Normed { get; private set; } = [];
    public float[] Q { get; private set; } = [];
    public float[] K { get; private set; } = [];
    public float[] V { get; private set; } = [];
    public float[] Attention { get; private set; } = [];
    public float[] Projection { get; private set; } = [];
    public float[] Gate { get; private set; } = [];
    public float[] Up { get; private set; } = [];
    public float[] Logits { get; private set; } = [];

    /// <summary>The cache each row of the batch belongs to (a prompt: the same one for every row).</summary>
    public KvCache[] RowCaches { get; private set; } = [];

    /// <summary>The position of each row in its cache.</summary>
    public int[] RowPositions { get; private set; } = [];

    public void Ensure(int tokens, int logitRows)
    {
        // Sizes in 64 bits first: tokens × intermediate size overflows an int long before memory runs out.
        long widest = Math.Max(Math.Max(config.HiddenSize, config.FeedForwardSize), (long)config.HeadCount * config.HeadDim);
        if ((long)tokens * widest > Array.MaxLength || (long)logitRows * config.VocabSize > Array.MaxLength)
            throw new RetortException(
                $"a batch of {tokens} tokens ({logitRows} with logits) needs activations of {(long)tokens * widest} and logits of " +
                $"{(long)logitRows * config.VocabSize} floats, more than an array can hold ({Array.MaxLength}): use smaller batches");
        if (tokens > _tokens)
        {
            int hidden = config.HiddenSize, q = config.HeadCount * config.HeadDim, kv = config.KvHeadCount * config.HeadDim;
            X = new float[tokens * hidden];
            Normed = new float[tokens * hidden];
            Q = new float[tokens * q];
            K = new float[tokens * kv];
            V = new float[tokens * kv];
            Attention = new float[tokens * q];
            Projection = new float[tokens * hidden];
            Gate = new float[tokens * config.FeedForwardSize];
            Up = new float[tokens * config.FeedForwardSize];
            RowCaches = new KvCache[tokens];
            RowPositions = new int[tokens];
            _tokens = tokens;
        }
        if (logitRows > _logitRows)
        {
            Logits = new float[(long)logitRows * config.VocabSize];
            _logitRows = logitRows;
        }
    }
}
