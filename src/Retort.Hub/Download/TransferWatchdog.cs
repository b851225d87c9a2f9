using System.Diagnostics;
using Retort.Hub.Hub;

namespace Retort.Hub.Download;

/// <summary>
/// Watches one HTTP exchange with the hub, from the request to the last byte of the body, and cancels
/// <see cref="Token"/> when it stalls: nothing received for <see cref="HubSettings.ReadTimeout"/> (no answer, or a
/// body that stopped), or fewer than <see cref="HubSettings.MinimumBytesPerWindow"/> bytes within one
/// <see cref="HubSettings.ThroughputWindow"/> (a trickle). A timer looks a few times per window, so a stall is
/// noticed even while a read is blocked; a transfer that keeps its pace is never stopped, however long it takes.
/// </summary>
internal sealed class TransferWatchdog : IDisposable
{
    private readonly HubSettings _settings;
    private readonly CancellationTokenSource _stall;
    private readonly CancellationTokenSource _linked;
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private long _lastByte, _windowStart, _windowBytes;
    private string? _reason;

    public TransferWatchdog(HubSettings settings, CancellationToken cancellationToken)
    {
        _settings = settings;
        _stall = new CancellationTokenSource();
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stall.Token);
        _lastByte = _windowStart = Stopwatch.GetTimestamp();
        var shortest = settings.ReadTimeout < settings.ThroughputWindow ? settings.ReadTimeout : settings.ThroughputWindow;
        var period = TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 8, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _timer = new Timer(_ => Check(), null, period, period);
    }

    /// <summary>Cancelled by the caller's token or by a stall.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>Why the transfer counts as stalled (null while it does not): "no data for 30 s", "only 12 bytes in 30 s …".</summary>
    public string? StallReason
    {
        get
        {
            lock (_gate) return _reason;
        }
    }

    public void Received(int bytes)
    {
        if (bytes <= 0) return;
        lock (_gate)
        {
            _lastByte = Stopwatch.GetTimestamp();
            _windowBytes += bytes;
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _linked.Dispose();
        _stall.Dispose();
    }

    private void Check()
    {
        lock (_gate)
        {
            if (_reason != null) return;
            long now = Stopwatch.GetTimestamp();
            if (Stopwatch.GetElapsedTime(_lastByte, now) >= _settings.ReadTimeout)
            {
                _reason = $"no data for {Seconds(_settings.ReadTimeout)} (the read timeout; HF_HUB_DOWNLOAD_TIMEOUT sets it)";
            }
            else if (Stopwatch.GetElapsedTime(_windowStart, now) >= _settings.ThroughputWindow)
            {
                if (_windowBytes < _settings.MinimumBytesPerWindow)
                    _reason = $"only {_windowBytes} bytes in {Seconds(_settings.ThroughputWindow)}, below the minimum of {_settings.MinimumBytesPerWindow} bytes per {Seconds(_settings.ThroughputWindow)}";
                _windowStart = now;
                _windowBytes = 0;
            }
            if (_reason == null) return;
        }
        try
        {
            _stall.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The exchange ended while the timer fired.
        }
    }

    private static string Seconds(TimeSpan t) =>
        t.TotalSeconds.ToString(t.TotalSeconds < 10 ? "0.###" : "0", System.Globalization.CultureInfo.InvariantCulture) + " s";
}
