using Spectre.Console;

namespace Retort.Cli;

/// <summary>The streams a command reads and writes, so tests can drive the CLI in-process.</summary>
internal sealed class CliIo(TextReader input, TextWriter output, TextWriter error)
{
    public TextReader In { get; } = input;

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>True when writing to the real terminal (colours, dimmed thinking).</summary>
    public bool IsConsole => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>A Spectre console over <see cref="Out"/>; plain text when it is not a terminal.</summary>
    public IAnsiConsole CreateConsole() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Out),
        Ansi = IsConsole ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = IsConsole ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = IsConsole ? InteractionSupport.Detect : InteractionSupport.No,
    });
}
