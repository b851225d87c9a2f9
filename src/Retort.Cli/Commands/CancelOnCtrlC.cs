namespace Retort.Cli.Commands;

/// <summary>Turns Ctrl-C into cancellation of a long batch command (which then stops cleanly and can be resumed).</summary>
internal sealed class CancelOnCtrlC : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly bool _hooked;

    public CancelOnCtrlC(CliIo io)
    {
        // Only a real terminal sends Ctrl-C; in-process runs (tests) leave the console alone.
        _hooked = io.IsConsole;
        if (_hooked) Console.CancelKeyPress += OnCancel;
    }

    public CancellationToken Token => _cts.Token;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _cts.Cancel();
    }

    public void Dispose()
    {
        if (_hooked) Console.CancelKeyPress -= OnCancel;
        _cts.Dispose();
    }
}
