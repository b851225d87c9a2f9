using System.Text;

namespace Retort.Engine.Generation;

/// <summary>
/// Splits streamed model output into reasoning (between &lt;think&gt; and &lt;/think&gt;) and answer,
/// removing the tags. A tag may arrive split over several pieces, so a tail that could be the
/// start of a tag is held back until the next piece decides it. R1 templates open &lt;think&gt;
/// in the prompt itself; <paramref name="startsInReasoning"/> says so.
/// </summary>
public sealed class ReasoningSplitter(bool startsInReasoning)
{
    public const string OpenTag = "<think>";
    public const string CloseTag = "</think>";

    private readonly StringBuilder _pending = new();
    private readonly StringBuilder _reasoning = new();
    private readonly StringBuilder _answer = new();
    private bool _inReasoning = startsInReasoning;
    private bool _reasoningClosed;
    private bool _atSectionStart = true;

    public string Reasoning => _reasoning.ToString().Trim();

    public string Answer => _answer.ToString().Trim();

    /// <summary>True once the model has closed its reasoning (or never opened it).</summary>
    public bool InReasoning => _inReasoning;

    /// <summary>True when a prompt ends inside an opened &lt;think&gt; block.</summary>
    public static bool PromptOpensReasoning(string prompt)
    {
        string trimmed = prompt.TrimEnd();
        return trimmed.EndsWith(OpenTag, StringComparison.Ordinal);
    }

    /// <summary>Feeds a piece of output; returns the parts that are now certain, in order.</summary>
    public IReadOnlyList<(TextKind Kind, string Text)> Push(string piece)
    {
        _pending.Append(piece);
        var output = new List<(TextKind, string)>();
        while (true)
        {
            string text = _pending.ToString();
            string tag = _inReasoning ? CloseTag : OpenTag;
            bool tagAllowed = _inReasoning || !_reasoningClosed;
            int at = tagAllowed ? text.IndexOf(tag, StringComparison.Ordinal) : -1;
            if (at >= 0)
            {
                Emit(output, text[..at]);
                _pending.Remove(0, at + tag.Length);
                _reasoningClosed |= _inReasoning;
                _inReasoning = !_inReasoning;
                _atSectionStart = true;
                continue;
            }
            int hold = tagAllowed ? PartialTagLength(text, tag) : 0;
            Emit(output, text[..(text.Length - hold)]);
            _pending.Remove(0, text.Length - hold);
            return output;
        }
    }

    /// <summary>Releases whatever is held back (end of generation).</summary>
    public IReadOnlyList<(TextKind Kind, string Text)> Flush()
    {
        var output = new List<(TextKind, string)>();
        Emit(output, _pending.ToString());
        _pending.Clear();
        return output;
    }

    private void Emit(List<(TextKind, string)> output, string text)
    {
        // Leading blank lines of a section are the template's formatting, not content.
        if (_atSectionStart)
        {
            text = text.TrimStart('\n', '\r', ' ');
            if (text.Length == 0) return;
            _atSectionStart = false;
        }
        if (text.Length == 0) return;
        var kind = _inReasoning ? TextKind.Reasoning : TextKind.Answer;
        (kind == TextKind.Reasoning ? _reasoning : _answer).Append(text);
        output.Add((kind, text));
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of <paramref name="tag"/>.</summary>
    internal static int PartialTagLength(string text, string tag)
    {
        for (int len = Math.Min(tag.Length - 1, text.Length); len > 0; len--)
            if (string.CompareOrdinal(text, text.Length - len, tag, 0, len) == 0) return len;
        return 0;
    }
}
