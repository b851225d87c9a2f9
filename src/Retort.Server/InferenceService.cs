using Retort.Engine;
using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Sampling;
using EngineMessage = Retort.Engine.Templates.ChatMessage;

namespace Retort.Server;

/// <summary>
/// The engine behind the endpoints: prompt building, slots whose KV caches share one page pool sized by the
/// <see cref="ContextPlan"/>, and one scheduler that batches their decode steps.
/// </summary>
internal sealed class InferenceService
{
    /// <param name="contextSize">Tokens per slot; 0 for the plan's default.</param>
    public InferenceService(LoadedModel model, int parallel, int contextSize, int queueLength)
        : this(model, parallel, ContextPlan.For(model, contextSize), queueLength)
    {
    }

    public InferenceService(LoadedModel model, int parallel, ContextPlan plan, int queueLength)
    {
        if (parallel < 1) throw new RetortException($"--parallel must be at least 1, found {parallel}");
        if (plan.Context < 2) throw new RetortException($"--ctx must be at least 2, found {plan.Context}");
        Model = model;
        Plan = plan;
        ContextSize = plan.Context;
        var pages = new KvPagePool(model.Config, plan.KeyType, plan.ValueType, plan.SharedPages(parallel));
        Pool = new SlotPool(model, parallel, ContextSize, pages, Math.Max(0, queueLength));
        ModelId = ModelName(model.Path);
        _scheduler = new BatchScheduler(model, Pool, Metrics);
    }

    /// <summary>The context and KV budget the slots were made with.</summary>
    public ContextPlan Plan { get; }

    private readonly BatchScheduler _scheduler;

    private readonly CancellationTokenSource _shutdown = new();

    public LoadedModel Model { get; }

    public int ContextSize { get; }

    public SlotPool Pool { get; }

    /// <summary>Counted here, where every generation ends, so those of clients that left are counted too.</summary>
    public ServerMetrics Metrics { get; } = new();

    /// <summary>The name clients use for the model: its file or folder name without extension.</summary>
    public string ModelId { get; }

    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

    public static string ModelName(string path)
    {
        string name = Path.GetFileName(path.TrimEnd('/', '\\'));
        return name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? name[..^5] : name;
    }

    /// <summary>True for the names that mean this model (an absent name does too).</summary>
    public bool IsThisModel(string? name) =>
        string.IsNullOrEmpty(name) || name == ModelId || name == ModelId + ":latest" || name == Model.Path;

    /// <summary>Renders a conversation with the chat template and tokenizes it.</summary>
    public Prompt ChatPrompt(IReadOnlyList<EngineMessage> messages)
    {
        if (Model.ChatTemplate == null)
            throw new ApiException(400, "the model has no chat template; use /v1/completions or raw prompts");
        string text = Model.ChatTemplate.Render(messages, addGenerationPrompt: true, Model.BosToken, Model.EosToken);
        return new Prompt(text, Model.Tokenizer.Encode(text, addSpecialTokens: false));
    }

    /// <summary>A raw prompt, tokenized as is (with the tokenizer's own BOS).</summary>
    public Prompt RawPrompt(string text) => new(text, Model.Tokenizer.Encode(text, addSpecialTokens: true));

    /// <summary>Stops every generation and refuses new ones, then waits (bounded) until no slot is busy,
    /// so the model can be unmapped safely.</summary>
    public async Task ShutdownAsync(TimeSpan timeout)
    {
        _shutdown.Cancel();
        var deadline = DateTime.UtcNow + timeout;
        while (Pool.Busy > 0 && DateTime.UtcNow < deadline) await Task.Delay(10).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for a slot and hands the request to the scheduler; its chunks are buffered so a slow
    /// reader never holds up the other sequences.
    /// </summary>
    /// <exception cref="ServerBusyException">The request cannot start now (no free slot, or not enough KV pages) and the queue is full.</exception>
    public async Task<RunningGeneration> StartAsync(Prompt prompt, SamplingOptions options, CancellationToken cancellationToken)
    {
        if (prompt.Tokens.Length == 0) throw new ApiException(400, "the prompt is empty");
        if (prompt.Tokens.Length >= ContextSize)
            throw new ApiException(400,
                $"the prompt has {prompt.Tokens.Length} tokens but the context holds {ContextSize}", code: "context_length_exceeded");
        try
        {
            options.Validate();
        }
        catch (RetortException ex)
        {
            throw new ApiException(400, ex.Message);
        }
        int pages = Pool.PagesNeeded(prompt.Tokens.Length, options.MaxTokens);
        var kv = Pool.Pages;
        if (pages > kv.MaxPages)
        {
            long tokens = Math.Min((long)prompt.Tokens.Length + options.MaxTokens, ContextSize);
            throw new ApiException(400,
                $"the request needs KV cache for {tokens} tokens ({prompt.Tokens.Length} prompt + up to {options.MaxTokens} generated): {pages} pages of " +
                $"{KvCache.PageSize}, but the server's KV pool holds {kv.MaxPages} pages ({(long)kv.MaxPages * KvCache.PageSize} tokens, --kv-budget); " +
                "lower max_tokens or shorten the prompt", code: "context_length_exceeded");
        }
        if (_shutdown.IsCancellationRequested) throw ShuttingDown();
        Slot slot;
        using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token))
        {
            try
            {
                slot = await Pool.AcquireAsync(prompt.Tokens, pages, waiting.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_shutdown.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw ShuttingDown();
            }
        }
        try
        {
            var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
            var sequence = new ScheduledSequence(Model, slot, prompt, options, cts);
            _scheduler.Submit(sequence);
            return new RunningGeneration(sequence);
        }
        catch
        {
            // Never strand a slot or its pages: nothing runs on it yet.
            Pool.Release(slot);
            throw;
        }
    }

    private static ApiException ShuttingDown() => new(503, "the server is shutting down", "server_error", "shutting_down");
}
