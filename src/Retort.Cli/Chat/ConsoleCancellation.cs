namespace Retort.Cli.Chat;

/// <summary>
/// Turns Ctrl-C into cancellation of the current answer instead of the end of the process.
/// A fresh token is handed out per answer; Ctrl-C while none is running only sets <see cref="IdleInterrupts"/>.
/// </summary>
internal sealed class ConsoleCancellation : IDisposable
{
    private CancellationTokenSource _current = new();
    private bool _busy = true;

    public ConsoleCancellation() => Console.CancelKeyPress += OnCancel;

    public CancellationToken Token => _current.Token;

    public int IdleInterrupts { get; private set; }

    /// <summary>Raised on Ctrl-C while no answer is running (the REPL reminds the user how to leave).</summary>
    public event Action? Idle;

    /// <summary>Starts a new answer with a fresh token.</summary>
    public CancellationToken Begin()
    {
        if (_current.IsCancellationRequested)
        {
            _current.Dispose();
            _current = new CancellationTokenSource();
        }
        _busy = true;
        return _current.Token;
    }

    public void End() => _busy = false;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        if (_busy) _current.Cancel();
        else
        {
            IdleInterrupts++;
            Idle?.Invoke();
        }
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _current.Dispose();
    }
}
