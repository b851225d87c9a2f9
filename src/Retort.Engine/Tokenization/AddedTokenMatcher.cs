using System.Text;

namespace Retort.Engine.Tokenization;

/// <summary>
/// Finds added tokens in text leftmost-longest (Hugging Face uses Aho-Corasick with that match
/// kind), applying single_word, lstrip and rstrip the way tokenizers' AddedVocabulary does.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>
    /// Cuts text into (token or null, start, length) parts covering it: null parts are ordinary
    /// text, which is still to be normalized and pre-tokenized.
    /// </summary>
    public void Split(string text, List<(AddedToken? Token, int Start, int Length)> output)
    {
        int offset = 0; // end of the previous part
        int i = 0;
        while (i < text.Length)
        {
            AddedToken? found = null;
            if (_byFirstChar.TryGetValue(text[i], out var candidates))
            {
                foreach (var t in candidates)
                {
                    if (text.AsSpan(i).StartsWith(t.Content, StringComparison.Ordinal))
                    {
                        found = t;
                        break;
                    }
                }
            }
            if (found is null)
            {
                i++;
                continue;
            }

            int start = i, stop = i + found.Content.Length;
            if (found.SingleWord && (EndsWithWordChar(text, start) || StartsWithWordChar(text, stop)))
            {
                // Hugging Face does not rescan inside a rejected match.
                i = stop;
                continue;
            }
            if (found.LStrip)
            {
                while (start > offset && IsWhiteSpaceBefore(text, start, out int width)) start -= width;
            }
            if (found.RStrip)
            {
                while (stop < text.Length && IsWhiteSpaceAt(text, stop, out int width)) stop += width;
            }
            if (start > offset) output.Add((null, offset, start - offset));
            output.Add((found, start, stop - start));
            offset = stop;
            i = stop;
        }
        if (offset < text.Length) output.Add((null, offset, text.Length - offset));
    }

    private static bool IsWordRune(Rune r) => Rune.IsLetterOrDigit(r) || r.Value == '_';

    private static bool EndsWithWordChar(string text, int index) =>
        index > 0 && Rune.DecodeLastFromUtf16(text.AsSpan(0, index), out Rune r, out _) == System.Buffers.OperationStatus.Done && IsWordRune(r);

    private static bool StartsWithWordChar(string text, int index) =>
        index < text.Length && Rune.DecodeFromUtf16(text.AsSpan(index), out Rune r, out _) == System.Buffers.OperationStatus.Done && IsWordRune(r);

    private static bool IsWhiteSpaceBefore(string text, int index, out int width)
    {
        Rune.DecodeLastFromUtf16(text.AsSpan(0, index), out Rune r, out width);
        return PatternSplitter.IsWhiteSpace(r.Value);
    }

    private static bool IsWhiteSpaceAt(string text, int index, out int width)
    {
        Rune.DecodeFromUtf16(text.AsSpan(index), out Rune r, out width);
        return PatternSplitter.IsWhiteSpace(r.Value);
    }
}
