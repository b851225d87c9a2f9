using System.Text;

namespace Retort.Engine.Generation;

/// <summary>
/// Watches streamed text for stop strings. Text that might be the beginning of a stop string is
/// held back until it is known not to be, so a stop string never leaks to the caller.
/// </summary>
internal sealed class StopStringFilter(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = stops.Where(s => s.Length > 0).ToArray();
    private readonly StringBuilder _held = new();

    public bool Stopped { get; private set; }

    /// <summary>Returns the text that is safe to release.</summary>
    public string Push(string piece)
    {
        if (Stopped) return "";
        if (_stops.Length == 0) return piece;
        _held.Append(piece);
        string text = _held.ToString();
        int cut = -1;
        foreach (string s in _stops)
        {
            int at = text.IndexOf(s, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0)
        {
            Stopped = true;
            _held.Clear();
            return text[..cut];
        }
        int hold = 0;
        foreach (string s in _stops) hold = Math.Max(hold, ReasoningSplitter.PartialTagLength(text, s));
        _held.Remove(0, text.Length - hold);
        return text[..^hold];
    }

    public string Flush()
    {
        string rest = Stopped ? "" : _held.ToString();
        _held.Clear();
        return rest;
    }
}
