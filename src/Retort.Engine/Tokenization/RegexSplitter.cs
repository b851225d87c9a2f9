using System.Text.RegularExpressions;

namespace Retort.Engine.Tokenization;

/// <summary>
/// A Split pre-tokenizer with a pattern this engine has no hand-written version of, run with .NET
/// regex, behaviour "Isolated": every match and every gap between matches becomes a piece.
/// </summary>
internal sealed class RegexSplitter(Regex regex) : ISplitter
{
    public void Split(string text, int start, int length, List<(int Start, int Length)> output)
    {
        int last = start;
        foreach (var m in regex.EnumerateMatches(text.AsSpan(start, length)))
        {
            if (m.Length == 0) continue;
            int s = start + m.Index;
            if (s > last) output.Add((last, s - last));
            output.Add((s, m.Length));
            last = s + m.Length;
        }
        if (last < start + length) output.Add((last, start + length - last));
    }
}
