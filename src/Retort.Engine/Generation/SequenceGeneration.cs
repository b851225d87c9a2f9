using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Sampling;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Generation;

/// <summary>
/// What happens to one sequence between forward passes, once its prompt is in the cache: sample the
/// next token from its logits, check end-of-sequence, stop strings, the token limit and the context,
/// and release the text that is now certain (split into reasoning and answer). When the reasoning budget
/// is spent it writes the nudge and the closing tag in the model's place, one token per step, exactly as
/// if they had been sampled (so the cache holds them and the answer follows from them). It does not run the
/// model, so a <see cref="Generator"/> can drive one sequence and a server's scheduler many at once
/// (one batched forward pass per step), with the same result.
/// </summary>
internal sealed class SequenceGeneration
{
    private readonly LoadedModel _model;
    private readonly KvCache _cache;
    private readonly SamplingOptions _options;
    private readonly Action<GenerationChunk>? _onChunk;
    private readonly Sampler _sampler;
    private readonly TokenStreamDecoder _decoder;
    private readonly StopStringFilter _stops;
    private readonly ReasoningSplitter _splitter;
    private readonly ThinkingBudget _thinking;
    private int[]? _forced;
    private int _forcedAt;
    private readonly List<int> _generated;
    private readonly List<int> _history;
    private readonly StringBuilder _text = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <param name="cache">The sequence's cache, holding the prompt: generation ends when it is full.</param>
    /// <param name="workspace">The sampler's scratch memory, owned by the generator (slot) the sequence runs on.</param>
    public SequenceGeneration(LoadedModel model, KvCache cache, SamplingWorkspace workspace, IReadOnlyList<int> prompt, SamplingOptions options,
        bool startsInReasoning, Action<GenerationChunk>? onChunk)
    {
        _model = model;
        _cache = cache;
        _options = options;
        _onChunk = onChunk;
        _sampler = new Sampler(options, workspace);
        _decoder = new TokenStreamDecoder(model.Tokenizer);
        _stops = new StopStringFilter(options.StopStrings);
        _splitter = new ReasoningSplitter(startsInReasoning);
        _thinking = new ThinkingBudget(model.Tokenizer, options, startsInReasoning);
        int room = Math.Max(0, Math.Min(options.MaxTokens, cache.Capacity - prompt.Count + 1));
        _generated = new List<int>(room);
        // Sized up front so that adding a token never reallocates (the penalties read it every step).
        _history = new List<int>(prompt.Count + room);
        _history.AddRange(prompt);
    }

    /// <summary>The token just sampled, to run through the model next when <see cref="Step"/> said so.</summary>
    public int NextToken { get; private set; } = -1;

    /// <summary>Null while the sequence goes on; then why it ended.</summary>
    public FinishReason? Finish { get; private set; }

    public IReadOnlyList<int> Tokens => _generated;

    /// <summary>
    /// Takes the logits of the last token run (modified in place by the penalties) and samples the next
    /// token, or takes the next forced one (the logits are then not needed). Returns true when the sequence
    /// goes on: <see cref="NextToken"/> must then be run through the model and its logits passed here; false
    /// when it has ended (see <see cref="Finish"/>).
    /// </summary>
    public bool Step(Span<float> logits)
    {
        if (Finish != null) throw new InvalidOperationException("the sequence has already ended");
        if (_forced == null && _thinking.Reached && !StartForcing()) return false;
        bool forced = _forced != null && _forcedAt < _forced.Length;
        int next;
        if (forced) next = _forced![_forcedAt++];
        else
        {
            if (_generated.Count >= _options.MaxTokens) return End(FinishReason.Length);
            next = _sampler.Sample(logits, CollectionsMarshal.AsSpan(_history));
            if (!_options.IgnoreEos && _model.EndOfSequenceTokens.Contains(next)) return End(FinishReason.Stop);
        }
        _generated.Add(next);
        _history.Add(next);
        string piece = _decoder.Push(next);
        _thinking.Observe(piece, sampled: !forced);
        // Stop strings are the model's to write: the forced text goes past them.
        Release(forced ? piece : _stops.Push(piece));
        if (_stops.Stopped) return End(FinishReason.Stop);
        // The token has no room in the cache: it is the last one.
        if (_generated.Count >= _options.MaxTokens || _cache.Length >= _cache.Capacity) return End(FinishReason.Length);
        NextToken = next;
        return true;
    }

    /// <summary>
    /// The budget is spent: prepares the forced tokens, or ends the sequence (false) when they would leave
    /// no room for a single token of answer in the token limit or the context.
    /// </summary>
    private bool StartForcing()
    {
        int[] forced = _thinking.ForcedTokens();
        int room = Math.Min(_options.MaxTokens - _generated.Count, _cache.Capacity - _cache.Length);
        if (forced.Length >= room) return End(FinishReason.Length);
        // What the decoder and the stop strings hold back comes before the forced text (a character cut at
        // the budget becomes U+FFFD); a stop string can end there, but not run on into the forced text.
        Release(_stops.Push(_decoder.Flush()));
        if (_stops.Stopped) return End(FinishReason.Stop);
        Release(_stops.Flush());
        _forced = forced;
        _thinking.MarkExhausted();
        return true;
    }

    /// <summary>Ends the sequence where it stands (the caller went away or the server is stopping).</summary>
    public void Cancel()
    {
        if (Finish == null) End(FinishReason.Cancelled);
    }

    public GenerationResult Result(IReadOnlyList<int> prompt, int reused, TimeSpan promptTime) => new()
    {
        PromptTokens = prompt,
        ReusedPromptTokens = reused,
        Tokens = _generated,
        Text = _text.ToString(),
        Reasoning = _splitter.Reasoning,
        Answer = _splitter.Answer,
        ReasoningTokens = _thinking.ReasoningTokens,
        ReasoningBudgetExhausted = _thinking.Exhausted,
        FinishReason = Finish ?? throw new InvalidOperationException("the sequence has not ended"),
        PromptTime = promptTime,
        GenerationTime = _clock.Elapsed,
    };

    private bool End(FinishReason reason)
    {
        Finish = reason;
        NextToken = -1;
        if (!_stops.Stopped) Release(_stops.Push(_decoder.Flush()));
        Release(_stops.Flush());
        foreach (var (kind, t) in _splitter.Flush()) _onChunk?.Invoke(new GenerationChunk(kind, t));
        _clock.Stop();
        return false;
    }

    private void Release(string piece)
    {
        if (piece.Length == 0) return;
        _text.Append(piece);
        foreach (var (kind, t) in _splitter.Push(piece)) _onChunk?.Invoke(new GenerationChunk(kind, t));
    }
}
