using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Retort.Engine;
using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using EngineMessage = Retort.Engine.Templates.ChatMessage;
using EffortLevels = Retort.Engine.Sampling.ReasoningEffort;
using ReasoningEffort = Microsoft.Extensions.AI.ReasoningEffort;

namespace Retort.Server;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IChatClient"/> over the engine, in process (no HTTP):
/// the model's reasoning comes back as <see cref="TextReasoningContent"/>, its answer as <see cref="TextContent"/>.
/// </summary>
public sealed class RetortChatClient : IChatClient
{
    private readonly InferenceService _service;
    private readonly ChatClientMetadata _metadata;

    /// <param name="parallel">Conversations generated at the same time (their KV caches share one page pool).</param>
    /// <param name="contextSize">Context of each; null or 0: the model's trained context, within the KV budget (<see cref="Retort.Engine.Model.ContextPlan"/>).</param>
    public RetortChatClient(LoadedModel model, int parallel = 1, int? contextSize = null)
        : this(new InferenceService(model, parallel, contextSize ?? 0, queueLength: int.MaxValue))
    {
    }

    internal RetortChatClient(InferenceService service)
    {
        _service = service;
        _metadata = new ChatClientMetadata("retort", null, service.ModelId);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var run = await StartAsync(messages, options, cancellationToken).ConfigureAwait(false);
        GenerationResult r;
        try
        {
            r = await run.Completion.ConfigureAwait(false);
        }
        finally
        {
            if (!run.Completion.IsCompleted) run.Cancel();
        }
        cancellationToken.ThrowIfCancellationRequested();
        var contents = new List<AIContent>();
        if (r.Reasoning.Length > 0) contents.Add(new TextReasoningContent(r.Reasoning));
        contents.Add(new TextContent(r.Answer));
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents))
        {
            ModelId = _service.ModelId,
            ResponseId = Guid.NewGuid().ToString("N"),
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = Finish(r.FinishReason),
            Usage = Usage(r),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var run = await StartAsync(messages, options, cancellationToken).ConfigureAwait(false);
        string id = Guid.NewGuid().ToString("N");
        try
        {
            await foreach (var chunk in run.Chunks.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                AIContent content = chunk.Kind == TextKind.Reasoning ? new TextReasoningContent(chunk.Text) : new TextContent(chunk.Text);
                yield return new ChatResponseUpdate(ChatRole.Assistant, [content]) { ResponseId = id, ModelId = _service.ModelId };
            }
            var r = await run.Completion.ConfigureAwait(false);
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(Usage(r))])
            {
                ResponseId = id,
                ModelId = _service.ModelId,
                FinishReason = Finish(r.FinishReason),
            };
        }
        finally
        {
            // The caller stopped enumerating early: stop generating and free the slot.
            if (!run.Completion.IsCompleted) run.Cancel();
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey != null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    /// <summary>The model belongs to the caller, who disposes it.</summary>
    public void Dispose()
    {
    }

    private Task<RunningGeneration> StartAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken ct)
    {
        var list = new List<EngineMessage>();
        foreach (var m in messages)
        {
            // Earlier reasoning is left out, as R1 templates do.
            string text = string.Concat(m.Contents.OfType<TextContent>().Select(c => c.Text));
            list.Add(new EngineMessage(m.Role.Value, text));
        }
        var d = new SamplingOptions();
        var sampling = new SamplingOptions
        {
            Temperature = options?.Temperature ?? d.Temperature,
            TopP = options?.TopP ?? d.TopP,
            TopK = options?.TopK ?? d.TopK,
            FrequencyPenalty = options?.FrequencyPenalty ?? 0,
            PresencePenalty = options?.PresencePenalty ?? 0,
            Seed = options?.Seed is long seed ? unchecked((int)seed) : null,
            MaxTokens = Math.Min(options?.MaxOutputTokens ?? _service.ContextSize, _service.ContextSize),
            StopStrings = options?.StopSequences?.ToArray() ?? [],
            ReasoningBudget = options?.Reasoning?.Effort is { } effort ? EffortBudget(effort) : null,
        };
        return StartOrExplain(list, sampling, ct);
    }

    /// <summary>Refusals meant for HTTP clients become the engine's own exception type here.</summary>
    private async Task<RunningGeneration> StartOrExplain(List<EngineMessage> messages, SamplingOptions sampling, CancellationToken ct)
    {
        try
        {
            return await _service.StartAsync(_service.ChatPrompt(messages), sampling, ct).ConfigureAwait(false);
        }
        catch (ApiException ex)
        {
            throw new RetortException(ex.Message, ex);
        }
    }

    private static ChatFinishReason? Finish(FinishReason reason) => reason switch
    {
        FinishReason.Stop => ChatFinishReason.Stop,
        FinishReason.Length => ChatFinishReason.Length,
        _ => null,
    };

    private static UsageDetails Usage(GenerationResult r) => new()
    {
        InputTokenCount = r.PromptTokens.Count,
        OutputTokenCount = r.Tokens.Count,
        TotalTokenCount = r.PromptTokens.Count + r.Tokens.Count,
        ReasoningTokenCount = r.ReasoningTokens,
    };

    /// <summary>Microsoft.Extensions.AI's effort levels are OpenAI's, so they take the budgets of the OpenAI endpoint.</summary>
    private static int? EffortBudget(ReasoningEffort effort)
    {
        string level = effort == ReasoningEffort.ExtraHigh ? "xhigh" : effort.ToString().ToLowerInvariant();
        return EffortLevels.TryBudget(level, out int budget) ? budget
            : throw new RetortException($"reasoning effort {effort} has no budget here; expected one of {string.Join(", ", EffortLevels.Levels)}");
    }
}
