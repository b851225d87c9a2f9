using System.Text;

namespace Retort.Engine.IO;

/// <summary>
/// Makes text taken from a (possibly corrupt) file safe to put into a one-line error message:
/// control characters are escaped and overly long names are cut, so a garbage key cannot
/// smuggle newlines or megabytes into what the CLI prints.
/// </summary>
internal static class MessageText
{
    private const int MaxName = 120;

    public static string Quote(string name)
    {
        string shown = name.Length > MaxName ? name[..MaxName] + "…" : name;
        return $"'{OneLine(shown)}'";
    }

    public static string OneLine(string text)
    {
        bool clean = true;
        foreach (char c in text)
        {
            if (char.IsControl(c) || c is '\u2028' or '\u2029') { clean = false; break; }
        }
        if (clean) return text;
        var sb = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029') sb.Append($"\\u{(int)c:X4}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
