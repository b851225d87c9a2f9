using System.Globalization;
using System.Text;

namespace Retort.Engine.Tokenization;

/// <summary>
/// Hand-written equivalents of the GPT-2, Llama 3 and Qwen2 split regexes with the semantics of the
/// Oniguruma engine Hugging Face uses: it walks code points (a .NET Regex sees UTF-16 surrogates,
/// so astral letters such as CJK Extension B would not be \p{L}), \s is Unicode White_Space, and
/// alternatives are tried in order at each position, each greedy with backtracking.
/// </summary>
internal sealed class PatternSplitter(PretokenizerPattern pattern) : ISplitter
{
    public const string Gpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    public const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const byte Other = 0, Letter = 1, Number = 2, Space = 3;

    public PretokenizerPattern Pattern { get; } = pattern;

    public static PretokenizerPattern? Recognize(string regex) => regex switch
    {
        Gpt2Regex => PretokenizerPattern.Gpt2,
        Llama3Regex => PretokenizerPattern.Llama3,
        Qwen2Regex => PretokenizerPattern.Qwen2,
        _ => null,
    };

    // Linear in the input by construction, so the deadline is never in reach.
    public void Split(string text, int start, int length, List<(int Start, int Length)> output, long deadline)
    {
        if (length == 0) return;
        // Code points, their classes and their UTF-16 offsets (offsets has one extra entry: the end).
        var cps = new int[length];
        var cls = new byte[length];
        var offsets = new int[length + 1];
        int n = 0;
        int pos = start, end = start + length;
        while (pos < end)
        {
            Rune.DecodeFromUtf16(text.AsSpan(pos, end - pos), out Rune r, out int used);
            cps[n] = r.Value;
            cls[n] = Classify(r);
            offsets[n] = pos;
            n++;
            pos += used;
        }
        offsets[n] = end;

        int i = 0;
        while (i < n)
        {
            int stop = Pattern == PretokenizerPattern.Gpt2 ? MatchGpt2(cps, cls, n, i) : MatchModern(cps, cls, n, i);
            output.Add((offsets[i], offsets[stop] - offsets[i]));
            i = stop;
        }
    }

    private static byte Classify(Rune r)
    {
        if (IsWhiteSpace(r.Value)) return Space;
        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                return Letter;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                return Number;
            default:
                return Other;
        }
    }

    // The Unicode White_Space property, which is what \s means in Oniguruma's Unicode mode.
    internal static bool IsWhiteSpace(int cp) =>
        cp is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    private static bool IsNewline(int cp) => cp is '\r' or '\n';

    private static int Run(byte[] cls, int n, int i, byte kind)
    {
        while (i < n && cls[i] == kind) i++;
        return i;
    }

    // 's 't 're 've 'm 'll 'd; returns the end or -1.
    private static int Contraction(int[] cps, int n, int i, bool ignoreCase)
    {
        if (cps[i] != '\'' || i + 1 >= n) return -1;
        int a = Fold(cps[i + 1], ignoreCase);
        if (a is 's' or 't' or 'm' or 'd') return i + 2;
        if (i + 2 >= n) return -1;
        int b = Fold(cps[i + 2], ignoreCase);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
        return -1;
    }

    private static int Fold(int cp, bool ignoreCase)
    {
        if (!ignoreCase) return cp;
        if (cp is >= 'A' and <= 'Z') return cp + 32;
        // U+017F LATIN SMALL LETTER LONG S case-folds to 's' under Unicode case folding.
        return cp == 0x17F ? 's' : cp;
    }

    private int MatchModern(int[] cps, byte[] cls, int n, int i)
    {
        int m = Contraction(cps, n, i, ignoreCase: true);
        if (m >= 0) return m;

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (cls[i] == Letter) return Run(cls, n, i, Letter);
        if (cls[i] != Number && !IsNewline(cps[i]) && i + 1 < n && cls[i + 1] == Letter) return Run(cls, n, i + 1, Letter);

        // \p{N} or \p{N}{1,3}
        if (cls[i] == Number)
        {
            // Llama 3 takes up to three digits per piece; Qwen2 one.
            int limit = Pattern == PretokenizerPattern.Llama3 ? 3 : 1;
            int j = i + 1;
            while (j < n && j - i < limit && cls[j] == Number) j++;
            return j;
        }

        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        int k = i;
        if (cps[k] == ' ' && k + 1 < n && cls[k + 1] == Other) k++;
        if (cls[k] == Other)
        {
            k = Run(cls, n, k, Other);
            while (k < n && IsNewline(cps[k])) k++;
            return k;
        }

        // cls[i] is Space from here on.
        int e = Run(cls, n, i, Space);
        // \s*[\r\n]+ : backtracking leaves the match just after the run's last newline.
        for (int j = e - 1; j >= i; j--)
        {
            if (IsNewline(cps[j])) return j + 1;
        }
        // \s+(?!\S) then \s+
        if (e == n) return e;
        return e - i >= 2 ? e - 1 : e;
    }

    private static int MatchGpt2(int[] cps, byte[] cls, int n, int i)
    {
        int m = Contraction(cps, n, i, ignoreCase: false);
        if (m >= 0) return m;
        int k = i;
        if (cps[k] == ' ' && k + 1 < n && cls[k + 1] != Space) k++;
        switch (cls[k])
        {
            case Letter: return Run(cls, n, k, Letter);
            case Number: return Run(cls, n, k, Number);
            case Other: return Run(cls, n, k, Other);
        }
        int e = Run(cls, n, i, Space);
        if (e == n) return e;
        return e - i >= 2 ? e - 1 : e;
    }
}
