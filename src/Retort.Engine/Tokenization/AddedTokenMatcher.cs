using System.Text;

namespace Retort.Engine.Tokenization;

/// <summary>
/// Finds added tokens in text leftmost-longest (Hugging Face uses Aho-Corasick with that match
/// kind), applying single_word, lstrip and rstrip the way tokenizers' AddedVocabulary does.
/// </summary>
internal sealed class AddedTokenMatcher
{
    // Trie walks between deadline checks: a check costs a clock read, a step a dictionary lookup.
    private const int StepsPerClockCheck = 4096;

    // A trie over the tokens' characters: node 0 is the root, an edge is (node << 16 | char) → child,
    // and a node that ends a token holds it. Walking it from each position finds the longest token
    // there in as many steps as the text agrees with some token, where trying every token that
    // starts with the same character would cost their count times their length.
    private readonly Dictionary<long, int> _edges = [];
    private readonly List<AddedToken?> _tokenAt = [null];
    private readonly string _origin;

    /// <param name="origin">Where the tokens come from ("'…/tokenizer.json'"), for the time-out error.</param>
    public AddedTokenMatcher(IEnumerable<AddedToken> tokens, string origin)
    {
        _origin = origin;
        foreach (var t in tokens)
        {
            if (t.Content.Length == 0) continue;
            int node = 0;
            foreach (char c in t.Content)
            {
                long key = Edge(node, c);
                if (!_edges.TryGetValue(key, out int child))
                {
                    child = _tokenAt.Count;
                    _tokenAt.Add(null);
                    _edges.Add(key, child);
                }
                node = child;
            }
            // The first token with a given content wins, as the first of equal-length candidates did.
            _tokenAt[node] ??= t;
        }
    }

    public bool IsEmpty => _edges.Count == 0;

    private static long Edge(int node, char c) => ((long)node << 16) | c;

    /// <summary>
    /// Cuts text into (token or null, start, length) parts covering it: null parts are ordinary
    /// text, which is still to be normalized and pre-tokenized. Gives up with a RetortException
    /// after <paramref name="deadline"/> (a Stopwatch timestamp), which only tokens built to
    /// overlap a text over and over can reach.
    /// </summary>
    public void Split(string text, List<(AddedToken? Token, int Start, int Length)> output, long deadline)
    {
        int offset = 0; // end of the previous part
        int i = 0;
        long steps = 0;
        while (i < text.Length)
        {
            AddedToken? found = null;
            int node = 0;
            for (int j = i; j < text.Length && _edges.TryGetValue(Edge(node, text[j]), out node); j++)
            {
                if (_tokenAt[node] is { } t) found = t;
                if (++steps % StepsPerClockCheck == 0 && System.Diagnostics.Stopwatch.GetTimestamp() > deadline)
                    throw new RetortException(
                        $"{_origin}: matching the added tokens ran out of time on a {text.Length}-character input: the tokens overlap the text pathologically");
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
