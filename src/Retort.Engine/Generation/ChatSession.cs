using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using Retort.Engine.Templates;

namespace Retort.Engine.Generation;

/// <summary>
/// A multi-turn conversation over one <see cref="Generator"/>: each turn renders the whole
/// conversation with the model's chat template, and the generator's prefix reuse means only the
/// tokens that changed since the last turn are computed.
/// </summary>
public sealed class ChatSession
{
    private readonly LoadedModel _model;
    private readonly Generator _generator;
    private readonly List<ChatMessage> _messages = new();

    public ChatSession(LoadedModel model, int contextSize, ContextOverflow overflow = ContextOverflow.Error,
        string? systemPrompt = null)
    {
        if (model.ChatTemplate == null)
            throw new RetortException($"{model.Path}: the model has no chat template; give one with --chat-template FILE or use --raw");
        _model = model;
        _generator = new Generator(model, contextSize);
        Overflow = overflow;
        SystemPrompt = systemPrompt;
    }

    public ContextOverflow Overflow { get; set; }

    public string? SystemPrompt { get; set; }

    public IReadOnlyList<ChatMessage> Messages => _messages;

    public Generator Generator => _generator;

    /// <summary>Forgets the conversation (the KV cache is reused as far as the new prompt allows).</summary>
    public void Clear() => _messages.Clear();

    /// <summary>Adds a user turn, generates the assistant's reply and records it in the conversation.</summary>
    public GenerationResult Send(string userText, SamplingOptions options, Action<GenerationChunk>? onChunk = null,
        CancellationToken cancellationToken = default)
    {
        _messages.Add(new ChatMessage("user", userText));
        int[] prompt;
        string promptText;
        try
        {
            (promptText, prompt) = FitPrompt(options.MaxTokens);
        }
        catch
        {
            _messages.RemoveAt(_messages.Count - 1);
            throw;
        }
        var result = _generator.Generate(prompt, options, ReasoningSplitter.PromptOpensReasoning(promptText), onChunk,
            cancellationToken);
        // R1 templates drop the reasoning of earlier turns; keeping only the answer matches that for every template.
        _messages.Add(new ChatMessage("assistant", result.Answer));
        return result;
    }

    /// <summary>Renders and tokenizes the conversation, dropping the oldest turns if the policy allows.</summary>
    private (string Text, int[] Tokens) FitPrompt(int maxTokens)
    {
        int capacity = _generator.Cache.Capacity;
        // Leave room for at least part of an answer, not just the prompt.
        int reserve = Math.Min(Math.Max(maxTokens, 1), capacity / 4);
        while (true)
        {
            string text = Render(_messages);
            int[] tokens = _model.Tokenizer.Encode(text, addSpecialTokens: false);
            if (tokens.Length + reserve <= capacity) return (text, tokens);
            int oldest = _messages.FindIndex(m => m.Role != "system");
            bool canDrop = Overflow == ContextOverflow.DropOldest && oldest >= 0 && oldest < _messages.Count - 1;
            if (!canDrop)
                throw new RetortException(Overflow == ContextOverflow.Error
                    ? $"the conversation needs {tokens.Length} tokens plus {reserve} for the answer but the context holds {capacity}: " +
                      "start a new chat (/clear), raise --ctx, or let old turns drop (--ctx-overflow drop)"
                    : $"the last message alone needs {tokens.Length} tokens plus {reserve} for the answer but the context holds {capacity}: raise --ctx");
            // Drop a whole exchange: the user turn and the replies that follow it.
            _messages.RemoveAt(oldest);
            while (oldest < _messages.Count - 1 && _messages[oldest].Role != "user") _messages.RemoveAt(oldest);
        }
    }

    private string Render(IReadOnlyList<ChatMessage> messages)
    {
        var all = SystemPrompt is { Length: > 0 } ? [new ChatMessage("system", SystemPrompt), .. messages] : messages;
        return _model.ChatTemplate!.Render(all, addGenerationPrompt: true, _model.BosToken, _model.EosToken);
    }
}
