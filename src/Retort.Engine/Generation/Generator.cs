using System.Diagnostics;
using System.Text;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Sampling;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Generation;

/// <summary>
/// Turns prompt tokens into a stream of output for one sequence, keeping its KV cache between
/// calls: a prompt that starts with tokens already in the cache only computes the rest.
/// </summary>
public sealed class Generator
{
    /// <summary>Prompt tokens computed per forward pass; bounds the activations' memory.</summary>
    private const int PromptBatch = 256;

    private readonly LoadedModel _model;
    private readonly List<int> _cached = new();
    private readonly int[] _single = new int[1];
    private readonly ForwardLock? _forwardLock;
    private float[] _logits = [];

    /// <param name="forwardLock">Given when other generators run on the same model at the same time
    /// (a server's slots): each forward pass then holds it, and its logits are copied out before release.</param>
    public Generator(LoadedModel model, int contextSize, ForwardLock? forwardLock = null)
    {
        _model = model;
        _forwardLock = forwardLock;
        Cache = model.Transformer.CreateCache(contextSize);
    }

    public KvCache Cache { get; }

    /// <summary>The tokens whose keys and values the cache holds, in order.</summary>
    public IReadOnlyList<int> CachedTokens => _cached;

    public void Reset()
    {
        _cached.Clear();
        Cache.Clear();
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
        if (prompt.Count == 0) throw new RetortException("the prompt is empty: at least one token is needed");
        if (prompt.Count >= Cache.Capacity)
            throw new RetortException(
                $"the prompt has {prompt.Count} tokens but the context holds {Cache.Capacity}: shorten it or raise --ctx");

        var promptClock = Stopwatch.StartNew();
        int reused = CommonPrefix(prompt);
        // At least the last prompt token must run to produce the logits of the first new token.
        if (reused == prompt.Count) reused--;
        Cache.Truncate(reused);
        _cached.RemoveRange(reused, _cached.Count - reused);

        Span<float> logits = default;
        int[] promptArray = prompt.ToArray();
        for (int i = reused; i < prompt.Count; i += PromptBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(PromptBatch, prompt.Count - i);
            logits = Forward(promptArray.AsSpan(i, count));
            _cached.AddRange(promptArray.AsSpan(i, count));
        }
        promptClock.Stop();

        var genClock = Stopwatch.StartNew();
        var sampler = new Sampler(options);
        var tokenizer = _model.Tokenizer;
        var decoder = new TokenStreamDecoder(tokenizer);
        var stops = new StopStringFilter(options.StopStrings);
        var splitter = new ReasoningSplitter(startsInReasoning);
        var generated = new List<int>();
        var text = new StringBuilder();
        var history = new List<int>(prompt);
        FinishReason finish = FinishReason.Length;

        void Release(string piece)
        {
            if (piece.Length == 0) return;
            text.Append(piece);
            foreach (var (kind, t) in splitter.Push(piece)) onChunk?.Invoke(new GenerationChunk(kind, t));
        }

        while (generated.Count < options.MaxTokens)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                finish = FinishReason.Cancelled;
                break;
            }
            int next = sampler.Sample(logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            if (!options.IgnoreEos && _model.EndOfSequenceTokens.Contains(next))
            {
                finish = FinishReason.Stop;
                break;
            }
            generated.Add(next);
            history.Add(next);
            Release(stops.Push(decoder.Push(next)));
            if (stops.Stopped)
            {
                finish = FinishReason.Stop;
                break;
            }
            if (generated.Count >= options.MaxTokens || Cache.Length >= Cache.Capacity) break;
            _single[0] = next;
            logits = Forward(_single);
            _cached.Add(next);
        }
        if (!stops.Stopped) Release(stops.Push(decoder.Flush()));
        Release(stops.Flush());
        foreach (var (kind, t) in splitter.Flush()) onChunk?.Invoke(new GenerationChunk(kind, t));
        genClock.Stop();

        return new GenerationResult
        {
            PromptTokens = promptArray,
            ReusedPromptTokens = reused,
            Tokens = generated,
            Text = text.ToString(),
            Reasoning = splitter.Reasoning,
            Answer = splitter.Answer,
            FinishReason = finish,
            PromptTime = promptClock.Elapsed,
            GenerationTime = genClock.Elapsed,
        };
    }

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
