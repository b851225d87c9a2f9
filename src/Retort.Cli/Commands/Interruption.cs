using System.Runtime.InteropServices;
using Retort.Engine.IO;

namespace Retort.Cli.Commands;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM as cancellation of a long batch command: the first signal cancels
/// <see cref="Token"/>, the work stops at its next check and deletes its partial output, and the command
/// exits 130 (SIGINT) or 143 (SIGTERM) with one line saying what happened. A second signal ends the
/// process at once; a temporary left then is removed by the next run writing the same output.
/// </summary>
internal sealed class Interruption : IDisposable
{
    public const int InterruptExitCode = 130, TerminateExitCode = 143;

    private readonly CancellationTokenSource _cts;
    private readonly PosixSignalRegistration? _interrupt, _terminate;
    private int _signal;

    public Interruption(CliIo io, CancellationToken outer = default)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        // Only the real process takes its signals; in-process runs (tests) leave the host's alone.
        if (!io.IsProcess) return;
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>The exit code for the signal that arrived (130 when the cancellation came from elsewhere).</summary>
    public int ExitCode => Volatile.Read(ref _signal) == (int)PosixSignal.SIGTERM ? TerminateExitCode : InterruptExitCode;

    /// <summary>
    /// Runs <paramref name="work"/>; when it stops because of the token, prints
    /// "<paramref name="command"/>: interrupted; removed partial …[; <paramref name="remains"/>]" and returns the signal's exit code.
    /// </summary>
    public int Run(CliIo io, string command, Func<CancellationToken, int> work, string? remains = null)
    {
        try
        {
            return work(Token);
        }
        catch (OperationCanceledException ex) when (Token.IsCancellationRequested)
        {
            return Report(io, command, ex, remains);
        }
    }

    /// <inheritdoc cref="Run"/>
    public async Task<int> RunAsync(CliIo io, string command, Func<CancellationToken, Task<int>> work, string? remains = null)
    {
        try
        {
            return await work(Token);
        }
        catch (OperationCanceledException ex) when (Token.IsCancellationRequested)
        {
            return Report(io, command, ex, remains);
        }
    }

    public void Dispose()
    {
        _interrupt?.Dispose();
        _terminate?.Dispose();
        _cts.Dispose();
    }

    private int Report(CliIo io, string command, OperationCanceledException ex, string? remains)
    {
        string partial = FindWriteCancel(ex) is { } write
            ? write.Removed ? $"; removed partial {write.PartialPath}" : $"; could not remove partial {write.PartialPath} (the next run writing {write.Target} removes it)"
            : "";
        io.Error.WriteLine($"{command}: interrupted{partial}{(remains is null ? "" : "; " + remains)}");
        return ExitCode;
    }

    private static WriteCanceledException? FindWriteCancel(Exception? ex)
    {
        for (; ex != null; ex = ex.InnerException)
            if (ex is WriteCanceledException write) return write;
        return null;
    }

    private void OnSignal(PosixSignalContext context)
    {
        // A second signal takes the default action (the process ends now): the way out of a stuck stop.
        if (Interlocked.CompareExchange(ref _signal, (int)context.Signal, 0) != 0) return;
        context.Cancel = true;
        _cts.Cancel();
    }
}
