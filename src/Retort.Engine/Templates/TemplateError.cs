namespace Retort.Engine.Templates;

/// <summary>
/// A failure while parsing or rendering a template; carries the template position so the
/// public surface can report it as a one-line <see cref="RetortException"/>.
/// </summary>
internal class TemplateError : Exception
{
    public TemplateError(string message, int line = 0, int column = 0) : base(message)
    {
        Line = line;
        Column = column;
    }

    public int Line { get; }

    public int Column { get; }

    public bool HasLocation => Line > 0;

    public TemplateError At(int line, int column) => HasLocation ? this : new TemplateError(Message, line, column);

    public string Describe() =>
        HasLocation ? $"chat template error at line {Line}, column {Column}: {OneLine(Message)}" : $"chat template error: {OneLine(Message)}";

    /// <summary>
    /// Messages quote template text and values, which may hold line breaks or be huge; the user
    /// gets one line of bounded length, with breaks and control characters written as escapes.
    /// </summary>
    public static string OneLine(string message)
    {
        const int MaxLength = 400;
        var sb = new System.Text.StringBuilder(Math.Min(message.Length, MaxLength + 16));
        foreach (char c in message)
        {
            if (sb.Length >= MaxLength)
            {
                sb.Append(" [...]");
                break;
            }
            if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (char.IsControl(c))
                sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }
}

/// <summary>raise_exception(...) from the template: its message reaches the user unchanged.</summary>
internal sealed class TemplateRaise(string message) : Exception(message);
