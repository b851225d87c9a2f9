using Spectre.Console;

namespace Retort.Cli;

/// <summary>The streams a command reads and writes, so tests can drive the CLI in-process.</summary>
internal sealed class CliIo(TextReader input, TextWriter output, TextWriter error, Func<string, string?>? environment = null)
{
    /// <summary>Environment variables (RETORT_HOME, HF_*), injectable so tests need not change the process environment.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; } = environment ?? Environment.GetEnvironmentVariable;

    public TextReader In { get; } = input;

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>True when writing to the real terminal (colours, dimmed thinking).</summary>
    public bool IsConsole => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>
    /// True when these are the process's own streams (the real `retort`, redirected or not) rather than an
    /// in-process run's: only then may a command take over the process's signals.
    /// </summary>
    public bool IsProcess => ReferenceEquals(Out, Console.Out);

    /// <summary>True when <see cref="Error"/> is the real terminal.</summary>
    public bool IsErrorConsole => ReferenceEquals(Error, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>A Spectre console over <see cref="Out"/>; plain text when it is not a terminal.</summary>
    public IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Out),
            Ansi = IsConsole ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = IsConsole ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = IsConsole ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Redirected output has no width; the default 80 columns would wrap long repo names mid-word and break grep.
        if (!IsConsole) console.Profile.Width = RedirectedWidth;
        return console;
    }

    private const int RedirectedWidth = 240;
}
