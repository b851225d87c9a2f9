using System.Globalization;
using System.Text;

namespace Retort.Engine.Templates;

internal enum TokenKind
{
    Data,
    VarBegin,
    VarEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Int,
    Float,
    Op,
    Eof,
}

internal readonly record struct Token(TokenKind Kind, string Value, int Line, int Column, object? Literal = null)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsName(string value) => Kind == TokenKind.Name && Value == value;

    public bool IsOp(string value) => Kind == TokenKind.Op && Value == value;
}

/// <summary>
/// Splits a template into data and tag tokens with Jinja2's whitespace rules as Hugging Face
/// configures them (trim_blocks and lstrip_blocks on, keep_trailing_newline off).
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}"];

    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private readonly int[] _lineStarts;

    private Lexer(string source)
    {
        _src = Normalize(source);
        var starts = new List<int> { 0 };
        for (int i = 0; i < _src.Length; i++)
            if (_src[i] == '\n') starts.Add(i + 1);
        _lineStarts = [.. starts];
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    // Jinja2 rewrites \r\n and \r to "\n" (other Unicode line breaks stay as they are) and drops
    // one trailing newline (keep_trailing_newline=False).
    private static string Normalize(string source)
    {
        var sb = new StringBuilder(source.Length);
        for (int i = 0; i < source.Length; i++)
        {
            char c = source[i];
            if (c == '\r' && i + 1 < source.Length && source[i + 1] == '\n') continue;
            sb.Append(c == '\r' ? '\n' : c);
        }
        if (sb.Length > 0 && sb[^1] == '\n') sb.Length--;
        return sb.ToString();
    }

    private (int Line, int Column) Position(int offset)
    {
        int idx = Array.BinarySearch(_lineStarts, offset);
        if (idx < 0) idx = ~idx - 1;
        return (idx + 1, offset - _lineStarts[idx] + 1);
    }

    private TemplateError ErrorAt(int offset, string message)
    {
        var (line, col) = Position(offset);
        return new TemplateError(message, line, col);
    }

    private void Add(TokenKind kind, string value, int offset, object? literal = null)
    {
        var (line, col) = Position(offset);
        _tokens.Add(new Token(kind, value, line, col, literal));
    }

    private void Run()
    {
        int pos = 0;
        while (pos < _src.Length)
        {
            int tag = FindTagStart(pos);
            int textEnd = tag < 0 ? _src.Length : tag;
            string text = _src[pos..textEnd];
            if (tag >= 0)
            {
                char sign = tag + 2 < _src.Length ? _src[tag + 2] : '\0';
                text = StripBefore(text, pos, _src[tag + 1], sign);
            }
            if (text.Length > 0) Add(TokenKind.Data, text, pos);
            if (tag < 0) break;
            pos = _src[tag + 1] switch
            {
                '#' => LexComment(tag),
                '{' => LexTag(tag, isBlock: false),
                _ => LexTag(tag, isBlock: true),
            };
        }
        Add(TokenKind.Eof, "", _src.Length);
    }

    // Whitespace control on the text before a tag: '-' strips all trailing whitespace; otherwise
    // lstrip_blocks removes blanks between a line start and a block or comment tag (not {{ }}).
    private string StripBefore(string text, int textStart, char kind, char sign)
    {
        if (sign == '-') return text.TrimEnd();
        if (sign == '+' || kind == '{') return text;
        int lpos = text.LastIndexOf('\n') + 1;
        bool lineStarting = textStart == 0 || _src[textStart - 1] == '\n';
        if ((lpos > 0 || lineStarting) && lpos < text.Length && IsBlank(text, lpos)) return text[..lpos];
        return text;
    }

    private static bool IsBlank(string text, int from)
    {
        for (int i = from; i < text.Length; i++)
            if (!char.IsWhiteSpace(text[i])) return false;
        return true;
    }

    private int FindTagStart(int from)
    {
        for (int i = from; i + 1 < _src.Length; i++)
        {
            if (_src[i] == '{' && (_src[i + 1] == '{' || _src[i + 1] == '%' || _src[i + 1] == '#')) return i;
        }
        return -1;
    }

    private int AfterEnd(int endStart, int endLength, char sign, bool trimBlock)
    {
        int p = endStart + endLength;
        if (sign == '-')
        {
            while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
        }
        else if (sign != '+' && trimBlock && p < _src.Length && _src[p] == '\n')
        {
            p++;
        }
        return p;
    }

    private int LexComment(int start)
    {
        int end = _src.IndexOf("#}", start + 2, StringComparison.Ordinal);
        if (end < 0) throw ErrorAt(start, "unterminated comment: missing '#}'");
        char sign = end > start + 2 ? _src[end - 1] : '\0';
        return AfterEnd(end, 2, sign == '-' || sign == '+' ? sign : '\0', trimBlock: true);
    }

    private int LexTag(int start, bool isBlock)
    {
        int p = start + 2;
        if (p < _src.Length && (_src[p] == '-' || _src[p] == '+')) p++;
        Add(isBlock ? TokenKind.BlockBegin : TokenKind.VarBegin, isBlock ? "{%" : "{{", start);
        int firstToken = _tokens.Count;
        int depth = 0;
        while (true)
        {
            while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
            if (p >= _src.Length) throw ErrorAt(start, isBlock ? "unterminated block tag: missing '%}'" : "unterminated expression: missing '}}'");
            if (depth == 0)
            {
                int endAt = MatchTagEnd(p, isBlock, out char sign, out int len);
                if (endAt >= 0)
                {
                    Add(isBlock ? TokenKind.BlockEnd : TokenKind.VarEnd, isBlock ? "%}" : "}}", p);
                    // Jinja2 applies trim_blocks after {% endraw %} but not after {% raw %}.
                    if (isBlock && _tokens.Count == firstToken + 2 && _tokens[firstToken].IsName("raw"))
                        return LexRaw(AfterEnd(endAt, len, sign, trimBlock: false));
                    return AfterEnd(endAt, len, sign, trimBlock: isBlock);
                }
            }
            p = LexToken(p, ref depth);
        }
    }

    // Returns where the closing delimiter starts (after any sign), or -1.
    private int MatchTagEnd(int p, bool isBlock, out char sign, out int len)
    {
        string close = isBlock ? "%}" : "}}";
        sign = '\0';
        len = 2;
        if (string.CompareOrdinal(_src, p, close, 0, 2) == 0) return p;
        char c = _src[p];
        if ((c == '-' || (isBlock && c == '+')) && string.CompareOrdinal(_src, p + 1, close, 0, 2) == 0)
        {
            sign = c;
            return p + 1;
        }
        return -1;
    }

    private int LexRaw(int p)
    {
        // The body is data up to {% endraw %}; whitespace control on the end tag still applies.
        for (int i = p; i + 1 < _src.Length; i++)
        {
            if (_src[i] != '{' || _src[i + 1] != '%') continue;
            int q = i + 2;
            char lead = q < _src.Length ? _src[q] : '\0';
            if (lead == '-' || lead == '+') q++;
            while (q < _src.Length && char.IsWhiteSpace(_src[q])) q++;
            if (string.CompareOrdinal(_src, q, "endraw", 0, 6) != 0) continue;
            q += 6;
            while (q < _src.Length && char.IsWhiteSpace(_src[q])) q++;
            char sign = '\0';
            if (q < _src.Length && (_src[q] == '-' || _src[q] == '+')) sign = _src[q++];
            if (string.CompareOrdinal(_src, q, "%}", 0, 2) != 0) continue;
            string body = StripBefore(_src[p..i], p, '%', lead);
            // Drop the BlockBegin, "raw" and BlockEnd tokens: raw leaves only its body behind.
            _tokens.RemoveRange(_tokens.Count - 3, 3);
            if (body.Length > 0) Add(TokenKind.Data, body, p);
            return AfterEnd(q, 2, sign, trimBlock: true);
        }
        throw ErrorAt(p, "unterminated raw block: missing '{% endraw %}'");
    }

    private int LexToken(int p, ref int depth)
    {
        char c = _src[p];
        if (char.IsLetter(c) || c == '_')
        {
            int s = p;
            while (p < _src.Length && (char.IsLetterOrDigit(_src[p]) || _src[p] == '_')) p++;
            Add(TokenKind.Name, _src[s..p], s);
            return p;
        }
        if (char.IsAsciiDigit(c))
            return LexNumber(p);
        if (c == '\'' || c == '"')
            return LexString(p);
        foreach (string op in Operators)
        {
            if (string.CompareOrdinal(_src, p, op, 0, op.Length) != 0) continue;
            if (op is "(" or "[" or "{") depth++;
            else if (op is ")" or "]" or "}") depth = Math.Max(0, depth - 1);
            Add(TokenKind.Op, op, p);
            return p + op.Length;
        }
        throw ErrorAt(p, $"unexpected character '{c}'");
    }

    private int LexNumber(int p)
    {
        int s = p;
        while (p < _src.Length && (char.IsAsciiDigit(_src[p]) || _src[p] == '_')) p++;
        bool isFloat = false;
        // A digit run right after '.' is an attribute index (x.0.1), never a float's tail.
        bool afterDot = s > 0 && _src[s - 1] == '.';
        if (!afterDot && p + 1 < _src.Length && _src[p] == '.' && char.IsAsciiDigit(_src[p + 1]))
        {
            isFloat = true;
            p++;
            while (p < _src.Length && (char.IsAsciiDigit(_src[p]) || _src[p] == '_')) p++;
        }
        if (!afterDot && p < _src.Length && (_src[p] == 'e' || _src[p] == 'E'))
        {
            int q = p + 1;
            if (q < _src.Length && (_src[q] == '+' || _src[q] == '-')) q++;
            if (q < _src.Length && char.IsAsciiDigit(_src[q]))
            {
                isFloat = true;
                p = q;
                while (p < _src.Length && (char.IsAsciiDigit(_src[p]) || _src[p] == '_')) p++;
            }
        }
        string text = _src[s..p].Replace("_", "");
        if (isFloat)
            Add(TokenKind.Float, text, s, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        else
            Add(TokenKind.Int, text, s, long.Parse(text, CultureInfo.InvariantCulture));
        return p;
    }

    private int LexString(int p)
    {
        char quote = _src[p];
        int s = p;
        p++;
        var sb = new StringBuilder();
        while (true)
        {
            if (p >= _src.Length) throw ErrorAt(s, "unterminated string literal");
            char c = _src[p];
            if (c == quote) { p++; break; }
            if (c == '\\' && p + 1 < _src.Length)
            {
                p = Unescape(p + 1, sb);
                continue;
            }
            sb.Append(c);
            p++;
        }
        Add(TokenKind.String, sb.ToString(), s, sb.ToString());
        return p;
    }

    // Python's unicode-escape decoding, which Jinja2 applies to string literals.
    private int Unescape(int p, StringBuilder sb)
    {
        char c = _src[p];
        switch (c)
        {
            case 'n': sb.Append('\n'); return p + 1;
            case 't': sb.Append('\t'); return p + 1;
            case 'r': sb.Append('\r'); return p + 1;
            case '\\': sb.Append('\\'); return p + 1;
            case '\'': sb.Append('\''); return p + 1;
            case '"': sb.Append('"'); return p + 1;
            case 'a': sb.Append('\a'); return p + 1;
            case 'b': sb.Append('\b'); return p + 1;
            case 'f': sb.Append('\f'); return p + 1;
            case 'v': sb.Append('\v'); return p + 1;
            case '\n': return p + 1;
            case 'x': return AppendHex(p, 2, sb);
            case 'u': return AppendHex(p, 4, sb);
            case 'U': return AppendHex(p, 8, sb);
        }
        if (c >= '0' && c <= '7')
        {
            int v = 0, n = 0;
            while (n < 3 && p < _src.Length && _src[p] >= '0' && _src[p] <= '7') { v = v * 8 + (_src[p] - '0'); p++; n++; }
            sb.Append((char)v);
            return p;
        }
        sb.Append('\\').Append(c);
        return p + 1;
    }

    private int AppendHex(int p, int digits, StringBuilder sb)
    {
        string hex = _src.Substring(p + 1, Math.Min(digits, _src.Length - p - 1));
        if (hex.Length != digits || !int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp))
            throw ErrorAt(p, "truncated escape sequence in string literal");
        sb.Append(char.ConvertFromUtf32(cp));
        return p + 1 + digits;
    }
}
