using System.Diagnostics;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Sampling;

namespace Retort.Engine.Generation;

/// <summary>
/// Turns prompt tokens into a stream of output for one sequence, keeping its KV cache between
/// calls: a prompt that starts with tokens already in the cache only computes the rest.
/// </summary>
public sealed class Generator
{
    /// <summary>Prompt tokens computed per forward pass; bounds the activations' memory.</summary>
    internal const int PromptBatch = 256;

    private readonly LoadedModel _model;
    private readonly List<int> _cached = new();
    private readonly int[] _single = new int[1];
    private readonly ForwardLock? _forwardLock;
    private float[] _logits = [];

    /// <summary>The sampler's vocabulary-sized scratch arrays, allocated once and lent to every request's sampler.</summary>
    internal SamplingWorkspace SamplingWorkspace { get; } = new();

    /// <param name="forwardLock">Given when other generators run on the same model at the same time
    /// (a server's slots): each forward pass then holds it, and its logits are copied out before release.</param>
    public Generator(LoadedModel model, int contextSize, ForwardLock? forwardLock = null)
        : this(model, model.Transformer.CreateCache(contextSize), forwardLock)
    {
    }

    /// <param name="cache">The cache to fill, made for this model: one whose pages come from a pool the
    /// server's slots share, for one.</param>
    public Generator(LoadedModel model, KvCache cache, ForwardLock? forwardLock = null)
    {
        if (cache.Pool.Config != model.Config) throw new ArgumentException("the KV cache was made for another model", nameof(cache));
        _model = model;
        _forwardLock = forwardLock;
        Cache = cache;
    }

    public KvCache Cache { get; }

    /// <summary>The tokens whose keys and values the cache holds, in order.</summary>
    public IReadOnlyList<int> CachedTokens => _cached;

    public void Reset()
    {
        _cached.Clear();
        Cache.Clear();
    }

    /// <summary>Forgets the cached tokens and gives the cache's pages back to its pool (a server dropping an idle slot's prefix).</summary>
    public void ReleaseCache()
    {
        _cached.Clear();
        Cache.Release();
    }

    /// <summary>
    /// Generates a continuation of <paramref name="prompt"/>. Each piece of text is passed to
    /// <paramref name="onChunk"/> as soon as it is certain (no partial UTF-8 character, no partial
    /// stop string or think tag). Cancellation ends the generation with <see cref="FinishReason.Cancelled"/>.
    /// </summary>
    public GenerationResult Generate(IReadOnlyList<int> prompt, SamplingOptions options, bool startsInReasoning = false,
        Action<GenerationChunk>? onChunk = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var promptClock = Stopwatch.StartNew();
        int reused = PreparePrompt(prompt);

        Span<float> logits = default;
        int[] promptArray = prompt.ToArray();
        for (int i = reused; i < prompt.Count; i += PromptBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(PromptBatch, prompt.Count - i);
            logits = Forward(promptArray.AsSpan(i, count));
            Record(promptArray.AsSpan(i, count));
        }
        promptClock.Stop();

        var sequence = new SequenceGeneration(_model, Cache, SamplingWorkspace, promptArray, options, startsInReasoning, onChunk);
        while (true)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                sequence.Cancel();
                break;
            }
            if (!sequence.Step(logits)) break;
            _single[0] = sequence.NextToken;
            logits = Forward(_single);
            Record(_single);
        }
        return sequence.Result(promptArray, reused, promptClock.Elapsed);
    }

    /// <summary>
    /// Checks a prompt against the context and keeps the longest cached prefix it shares (at least its
    /// last token is left to compute, for the logits of the first new token). Returns the tokens kept.
    /// </summary>
    internal int PreparePrompt(IReadOnlyList<int> prompt)
    {
        if (prompt.Count == 0) throw new RetortException("the prompt is empty: at least one token is needed");
        if (prompt.Count >= Cache.Capacity)
            throw new RetortException(
                $"the prompt has {prompt.Count} tokens but the context holds {Cache.Capacity}: shorten it or raise --ctx");
        int reused = CommonPrefix(prompt);
        if (reused == prompt.Count) reused--;
        Cache.Truncate(reused);
        _cached.RemoveRange(reused, _cached.Count - reused);
        return reused;
    }

    /// <summary>Notes tokens whose keys and values were just appended to the cache (by this generator or a batch).</summary>
    internal void Record(ReadOnlySpan<int> tokens) => _cached.AddRange(tokens);

    internal void Record(int token) => _cached.Add(token);

    private Span<float> Forward(ReadOnlySpan<int> tokens)
    {
        if (_forwardLock == null) return _model.Transformer.ForwardInPlace(tokens, Cache);
        _forwardLock.Enter();
        try
        {
            // The model's logits buffer belongs to whichever sequence runs next: keep our own copy.
            var shared = _model.Transformer.ForwardInPlace(tokens, Cache);
            if (_logits.Length < shared.Length) _logits = new float[shared.Length];
            shared.CopyTo(_logits);
            return _logits.AsSpan(0, shared.Length);
        }
        finally
        {
            _forwardLock.Exit();
        }
    }

    private int CommonPrefix(IReadOnlyList<int> prompt)
    {
        int n = Math.Min(prompt.Count, _cached.Count);
        int i = 0;
        while (i < n && prompt[i] == _cached[i]) i++;
        return i;
    }
}
