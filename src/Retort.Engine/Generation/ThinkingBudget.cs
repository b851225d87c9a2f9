using Retort.Engine.Sampling;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Generation;

/// <summary>
/// Follows one sequence's think block token by token: counts the tokens the model samples inside it and
/// says when they reach <see cref="SamplingOptions.ReasoningBudget"/>, then gives the tokens to write in the
/// model's place (the nudge and the closing tag). It reads the text as the decoder releases it, before stop
/// strings hold any back, so it sees the model's own closing tag at the token that completes it; its rule is
/// <see cref="ReasoningSplitter"/>'s (same tags, a closed block never reopens), which sees the same text later.
/// </summary>
internal sealed class ThinkingBudget(Tokenizer tokenizer, SamplingOptions options, bool startsInReasoning)
{
    private static readonly int TailLength = Math.Max(ReasoningSplitter.OpenTag.Length, ReasoningSplitter.CloseTag.Length) - 1;

    private readonly int _budget = options.HasReasoningBudget ? options.ReasoningBudget!.Value : -1;
    private string _tail = "";
    private bool _closed;

    /// <summary>Inside an open think block.</summary>
    public bool Inside { get; private set; } = startsInReasoning;

    /// <summary>Tokens the model sampled inside the block (what the budget counts; the tokens that open
    /// or close the block and the forced ones are not counted).</summary>
    public int ReasoningTokens { get; private set; }

    /// <summary>The budget ended the block: the closing tag was forced.</summary>
    public bool Exhausted { get; private set; }

    /// <summary>The budget is spent while the block is still open: the next token is to be forced.</summary>
    public bool Reached => Inside && !Exhausted && _budget >= 0 && ReasoningTokens >= _budget;

    /// <summary>Notes the text one token released (possibly empty: part of a character).</summary>
    public void Observe(string piece, bool sampled)
    {
        bool before = Inside;
        Scan(piece);
        if (sampled && before && Inside) ReasoningTokens++;
    }

    /// <summary>
    /// The tokens that end the thinking: the nudge (unless the budget is 0, which means no thinking to
    /// conclude) then the closing tag and the blank line R1 models write after it. The tokenizer matches its
    /// added tokens in the text, so a vocabulary that has &lt;/think&gt; as one token (R1 distills, Qwen3) gets
    /// that token, exactly as the model writes it; another spells the tag out as text.
    /// </summary>
    public int[] ForcedTokens() =>
        tokenizer.Encode((_budget > 0 ? options.ReasoningNudge : "") + ReasoningSplitter.CloseTag + "\n\n", addSpecialTokens: false);

    /// <summary>From now on the forced tokens are written.</summary>
    public void MarkExhausted() => Exhausted = true;

    private void Scan(string piece)
    {
        if (piece.Length == 0 || _closed) return;
        string text = _tail + piece;
        int from = 0;
        while (true)
        {
            string tag = Inside ? ReasoningSplitter.CloseTag : ReasoningSplitter.OpenTag;
            int at = text.IndexOf(tag, from, StringComparison.Ordinal);
            if (at < 0) break;
            from = at + tag.Length;
            if (Inside)
            {
                // Closed for good: the splitter does not reopen a block.
                Inside = false;
                _closed = true;
                return;
            }
            Inside = true;
        }
        _tail = text.Length - from <= TailLength ? text[from..] : text[^TailLength..];
    }
}
