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
        HasLocation ? $"chat template error at line {Line}, column {Column}: {Message}" : $"chat template error: {Message}";
}

/// <summary>raise_exception(...) from the template: its message reaches the user unchanged.</summary>
internal sealed class TemplateRaise(string message) : Exception(message);
