using Retort.Engine;

namespace Retort.Hub.Hub;

/// <summary>
/// Where and how to reach the Hugging Face hub, read from the same variables huggingface_hub reads
/// (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_DOWNLOAD_TIMEOUT) and, without HF_TOKEN, from the token file that
/// `huggingface-cli login` / `hf auth login` writes (HF_TOKEN_PATH, else $HF_HOME/token, else
/// $XDG_CACHE_HOME/huggingface/token or ~/.cache/huggingface/token). A class rather than a record
/// so that no generated ToString can ever print the token.
/// </summary>
public sealed class HubSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Base address of the hub, without a trailing slash.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Bearer token for gated or private repos; sent only to <see cref="Endpoint"/>'s host.</summary>
    public string? Token { get; init; }

    /// <summary>No network at all: only models already in the store can be used.</summary>
    public bool Offline { get; init; }

    /// <summary>Files downloaded at the same time.</summary>
    public int ParallelDownloads { get; init; } = 4;

    /// <summary>
    /// The longest wait for the hub's answer or for the next byte of a listing or file (HF_HUB_DOWNLOAD_TIMEOUT,
    /// in seconds). A read that waits longer is a stall, retried like a dropped connection. There is no limit
    /// on a whole transfer: a slow download that keeps moving runs as long as it needs.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A transfer that receives fewer than <see cref="MinimumBytesPerWindow"/> bytes in one window of this length
    /// is a stall too: a server trickling a byte every few seconds never trips <see cref="ReadTimeout"/>, yet would
    /// take years to deliver a model.
    /// </summary>
    public TimeSpan ThroughputWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The least a transfer must receive per <see cref="ThroughputWindow"/> (1 KiB: far below any working link).</summary>
    public long MinimumBytesPerWindow { get; init; } = 1024;

    /// <summary>The largest repo listing read (JSON), so a hostile or broken hub cannot fill memory.</summary>
    public long MaxListingBytes { get; init; } = 64L << 20;

    /// <summary>The most files a repo listing may name.</summary>
    public int MaxListingFiles { get; init; } = 100_000;

    /// <summary>Settings from environment variables, read through <paramref name="getVariable"/> so tests need not touch the process environment.</summary>
    public static HubSettings FromEnvironment(Func<string, string?> getVariable)
    {
        var endpoint = getVariable("HF_ENDPOINT");
        var token = getVariable("HF_TOKEN");
        // The older name is still set by many setups.
        if (string.IsNullOrWhiteSpace(token)) token = getVariable("HUGGING_FACE_HUB_TOKEN");
        if (string.IsNullOrWhiteSpace(token)) token = ReadTokenFile(TokenPath(getVariable));
        var settings = new HubSettings
        {
            Endpoint = string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : endpoint.Trim().TrimEnd('/'),
            Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim(),
            Offline = IsTrue(getVariable("HF_HUB_OFFLINE")),
        };
        return getVariable("HF_HUB_DOWNLOAD_TIMEOUT") is { Length: > 0 } timeout
            ? settings.With(readTimeout: ParseSeconds("HF_HUB_DOWNLOAD_TIMEOUT", timeout))
            : settings;
    }

    public HubSettings WithOffline(bool offline) => With(offline: Offline || offline);

    /// <summary>A copy with the given values changed (the class has no record `with`, see above).</summary>
    internal HubSettings With(bool? offline = null, TimeSpan? readTimeout = null) => new()
    {
        Endpoint = Endpoint, Token = Token, Offline = offline ?? Offline, ParallelDownloads = ParallelDownloads,
        ReadTimeout = readTimeout ?? ReadTimeout, ThroughputWindow = ThroughputWindow, MinimumBytesPerWindow = MinimumBytesPerWindow,
        MaxListingBytes = MaxListingBytes, MaxListingFiles = MaxListingFiles,
    };

    /// <summary>Refuses values no transfer could work with, before any request is made.</summary>
    internal void Validate()
    {
        static bool Positive(TimeSpan t) => t > TimeSpan.Zero && t <= TimeSpan.FromDays(1);
        if (!Positive(ReadTimeout)) throw new RetortException($"the hub read timeout must lie between 0 and 1 day, found {ReadTimeout.TotalSeconds} s");
        if (!Positive(ThroughputWindow)) throw new RetortException($"the hub throughput window must lie between 0 and 1 day, found {ThroughputWindow.TotalSeconds} s");
        if (MinimumBytesPerWindow < 0) throw new RetortException($"the hub's minimum bytes per window must not be negative, found {MinimumBytesPerWindow}");
        if (MaxListingBytes < 1 || MaxListingFiles < 1 || ParallelDownloads < 1)
            throw new RetortException($"the hub limits must be positive, found {MaxListingBytes} listing bytes, {MaxListingFiles} listing files, {ParallelDownloads} parallel downloads");
    }

    public override string ToString() => $"{Endpoint}{(Token is null ? "" : " (with token)")}{(Offline ? " offline" : "")}";

    /// <summary>Where huggingface_hub keeps the token of `hf auth login` (null: no home directory to look in).</summary>
    public static string? TokenPath(Func<string, string?> getVariable)
    {
        if (getVariable("HF_TOKEN_PATH") is { Length: > 0 } path) return ExpandHome(path, getVariable);
        string? hfHome = getVariable("HF_HOME");
        if (string.IsNullOrWhiteSpace(hfHome))
        {
            string? cache = getVariable("XDG_CACHE_HOME");
            if (string.IsNullOrWhiteSpace(cache)) cache = Home(getVariable) is { } home ? Path.Combine(home, ".cache") : null;
            if (cache == null) return null;
            hfHome = Path.Combine(cache, "huggingface");
        }
        return Path.Combine(ExpandHome(hfHome, getVariable), "token");
    }

    private static string? ReadTokenFile(string? path)
    {
        try
        {
            return path != null && File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An unreadable token file is treated as no token: public repos still work, gated ones say 401.
            return null;
        }
    }

    // Read through getVariable like everything else, so a test's environment never reaches the real home.
    private static string? Home(Func<string, string?> getVariable) =>
        getVariable("HOME") is { Length: > 0 } home ? home : getVariable("USERPROFILE") is { Length: > 0 } profile ? profile : null;

    private static string ExpandHome(string path, Func<string, string?> getVariable) =>
        (path == "~" || path.StartsWith("~/", StringComparison.Ordinal)) && Home(getVariable) is { } home ? home + path[1..] : path;

    private static TimeSpan ParseSeconds(string variable, string text)
    {
        if (!double.TryParse(text.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds)
            || !double.IsFinite(seconds) || seconds <= 0 || seconds > 86_400)
            throw new RetortException($"{variable} is '{text}': expected a number of seconds above 0 (at most 86400), e.g. 30");
        return TimeSpan.FromSeconds(seconds);
    }

    // huggingface_hub's reading of boolean variables.
    private static bool IsTrue(string? value) =>
        value?.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";
}
