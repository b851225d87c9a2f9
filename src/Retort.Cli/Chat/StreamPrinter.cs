using Retort.Engine.Generation;
using Spectre.Console;

namespace Retort.Cli.Chat;

/// <summary>
/// Writes streamed output as it arrives: reasoning dimmed on a terminal (or framed by
/// "Thinking..." lines when the output is plain text), then the answer.
/// </summary>
internal sealed class StreamPrinter(CliIo io, bool hideThinking)
{
    private readonly IAnsiConsole _console = io.CreateConsole();
    private TextKind? _last;
    private bool _wroteAnything;

    public void Print(GenerationChunk chunk)
    {
        if (chunk.Kind == TextKind.Reasoning && hideThinking) return;
        if (_last != chunk.Kind)
        {
            if (_last == TextKind.Reasoning) EndThinking();
            if (chunk.Kind == TextKind.Reasoning) StartThinking();
            _last = chunk.Kind;
        }
        if (chunk.Kind == TextKind.Reasoning && io.IsConsole)
            _console.Write(new Text(chunk.Text, new Style(decoration: Decoration.Dim)));
        else
            io.Out.Write(chunk.Text);
        io.Out.Flush();
        _wroteAnything = true;
    }

    /// <summary>Closes an open thinking block and ends the line.</summary>
    public void End()
    {
        if (_last == TextKind.Reasoning) EndThinking();
        if (_wroteAnything) io.Out.WriteLine();
        io.Out.Flush();
        _last = null;
        _wroteAnything = false;
    }

    private void StartThinking()
    {
        if (io.IsConsole) _console.Write(new Text("Thinking...\n", new Style(decoration: Decoration.Dim)));
        else io.Out.Write("Thinking...\n");
    }

    private void EndThinking()
    {
        if (io.IsConsole) _console.Write(new Text("\n...done thinking.\n\n", new Style(decoration: Decoration.Dim)));
        else io.Out.Write("\n...done thinking.\n\n");
    }
}
