using System.Collections.Concurrent;
using Retort.Engine;
using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Sampling;
using Retort.Engine.Templates;

namespace Retort.Distillation.Models;

/// <summary>
/// A model loaded in this process answering through its chat template. Each concurrent request gets its
/// own <see cref="Generator"/> (own KV cache); with more than one they share the forward pass through
/// the model's <see cref="LoadedModel.ForwardLock"/>, as the server's slots do.
/// </summary>
public sealed class LocalChatModel : IChatModel
{
    private readonly LoadedModel _model;
    private readonly int _contextSize;
    private readonly bool _shared;
    private readonly ConcurrentBag<Generator> _idle = new();

    /// <param name="contextSize">Tokens per sequence (prompt and answer); 0 takes the default of <see cref="ContextPlan"/>:
    /// the model's trained context unless its KV cache would exceed the memory budget.</param>
    /// <param name="parallel">How many requests may run at once.</param>
    public LocalChatModel(LoadedModel model, int contextSize = 0, int parallel = 1)
    {
        if (parallel < 1) throw new RetortException($"concurrency must be at least 1, found {parallel}");
        _model = model;
        _contextSize = ContextPlan.For(model, contextSize).Context;
        _shared = parallel > 1;
        Name = Path.GetFileNameWithoutExtension(model.Path.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
    }

    public string Name { get; }

    public Task<ChatReply> CompleteAsync(string prompt, ChatSampling sampling, CancellationToken cancellationToken) =>
        Task.Run(() => Complete(prompt, sampling, cancellationToken), cancellationToken);

    private ChatReply Complete(string prompt, ChatSampling sampling, CancellationToken cancellationToken)
    {
        string text = _model.ChatTemplate is { } template
            ? template.Render([new ChatMessage("user", prompt)], addGenerationPrompt: true, _model.BosToken, _model.EosToken)
            : prompt;
        int[] tokens = _model.Tokenizer.Encode(text, addSpecialTokens: _model.ChatTemplate == null);
        var options = new SamplingOptions
        {
            Temperature = sampling.Temperature,
            TopP = sampling.TopP,
            MaxTokens = Math.Min(sampling.MaxTokens, Math.Max(1, _contextSize - tokens.Length)),
            Seed = sampling.Seed,
        };
        if (!_idle.TryTake(out var generator)) generator = new Generator(_model, _contextSize, _shared ? _model.ForwardLock : null);
        try
        {
            var result = generator.Generate(tokens, options, ReasoningSplitter.PromptOpensReasoning(text), cancellationToken: cancellationToken);
            if (result.FinishReason == FinishReason.Cancelled) throw new OperationCanceledException(cancellationToken);
            return new ChatReply
            {
                Reasoning = result.Reasoning,
                Answer = result.Answer,
                FinishReason = result.FinishReason == FinishReason.Stop ? "stop" : "length",
                PromptTokens = result.PromptTokens.Count,
                CompletionTokens = result.Tokens.Count,
                Elapsed = result.GenerationTime,
            };
        }
        finally
        {
            _idle.Add(generator);
        }
    }
}
