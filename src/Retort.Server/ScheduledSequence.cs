using System.Diagnostics;
using System.Threading.Channels;
using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Sampling;

namespace Retort.Server;

/// <summary>
/// One request on its slot, as the scheduler sees it: first its prompt is computed (in chunks, between
/// other sequences' decode steps), then it takes part in batched decode steps until it ends. Its text goes
/// to a channel the HTTP handler drains; its result completes <see cref="Completion"/>.
/// </summary>
internal sealed class ScheduledSequence
{
    private readonly LoadedModel _model;
    private readonly Channel<GenerationChunk> _channel =
        Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource<GenerationResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cancellation;
    private readonly Stopwatch _promptClock = new();
    private SequenceGeneration? _generation;
    private int _reused;
    private int _position = -1;
    private bool _failed;
    private bool _cancelledEarly;

    public ScheduledSequence(LoadedModel model, Slot slot, Prompt prompt, SamplingOptions options, CancellationTokenSource cancellation)
    {
        _model = model;
        Slot = slot;
        Prompt = prompt;
        Options = options;
        _cancellation = cancellation;
        StartsInReasoning = ReasoningSplitter.PromptOpensReasoning(prompt.Text);
    }

    public Slot Slot { get; }

    public Prompt Prompt { get; }

    public SamplingOptions Options { get; }

    public bool StartsInReasoning { get; }

    public KvCache Cache => Slot.Generator.Cache;

    public ChannelReader<GenerationChunk> Chunks => _channel.Reader;

    public Task<GenerationResult> Completion => _completion.Task;

    public bool CancellationRequested => _cancellation.IsCancellationRequested;

    /// <summary>Still computing its prompt.</summary>
    public bool Prefilling => _generation == null && !_failed && !_cancelledEarly;

    /// <summary>Waiting for its <see cref="NextToken"/> to go through the model.</summary>
    public bool Decoding => _generation is { Finish: null } && !_failed;

    public int NextToken => _generation!.NextToken;

    public bool Ended => _failed || _cancelledEarly || _generation?.Finish != null;

    /// <summary>
    /// Computes up to <paramref name="budget"/> more prompt tokens; when the prompt is done, samples
    /// the first new token. The caller holds the model's forward lock. Returns the tokens computed.
    /// </summary>
    public int Prefill(int budget)
    {
        var generator = Slot.Generator;
        if (_position < 0)
        {
            _promptClock.Start();
            _reused = generator.PreparePrompt(Prompt.Tokens);
            _position = _reused;
        }
        int count = Math.Min(budget, Prompt.Tokens.Length - _position);
        var tokens = Prompt.Tokens.AsSpan(_position, count);
        var logits = _model.Transformer.ForwardInPlace(tokens, generator.Cache);
        generator.Record(tokens);
        _position += count;
        if (_position == Prompt.Tokens.Length)
        {
            _promptClock.Stop();
            _generation = new SequenceGeneration(_model, generator.Cache, generator.SamplingWorkspace, Prompt.Tokens, Options, StartsInReasoning,
                chunk => _channel.Writer.TryWrite(chunk));
            _generation.Step(logits);
        }
        return count;
    }

    /// <summary>Takes this sequence's row of a decode step (its <see cref="NextToken"/> is now in the cache).</summary>
    public void Decoded(Span<float> logits)
    {
        Slot.Generator.Record(_generation!.NextToken);
        _generation.Step(logits);
    }

    /// <summary>Ends it where it stands: the client left or the server is stopping.</summary>
    public void Cancel()
    {
        if (_generation == null) _cancelledEarly = true;
        else _generation.Cancel();
    }

    /// <summary>A failure of this sequence alone (or of the batch it was in): the handler sees the exception.</summary>
    public void Fail(Exception error)
    {
        _failed = true;
        _channel.Writer.TryComplete();
        _completion.TrySetException(error);
    }

    /// <summary>Publishes the result and closes the stream; the scheduler then frees the slot.</summary>
    public GenerationResult? Complete()
    {
        GenerationResult? result = null;
        if (!_completion.Task.IsCompleted)
        {
            result = _generation?.Result(Prompt.Tokens, _reused, _promptClock.Elapsed) ?? new GenerationResult
            {
                // Cancelled before or while its prompt was computed.
                PromptTokens = Prompt.Tokens, ReusedPromptTokens = 0, Tokens = [], Text = "", Reasoning = "", Answer = "",
                FinishReason = FinishReason.Cancelled, PromptTime = _promptClock.Elapsed, GenerationTime = TimeSpan.Zero,
            };
            _channel.Writer.TryComplete();
            _completion.TrySetResult(result);
        }
        _cancellation.Dispose();
        return result;
    }

    /// <summary>Cancels from the handler's side (the reader went away); the slot is freed at the next step.</summary>
    public void RequestCancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished and cleaned up.
        }
    }
}
