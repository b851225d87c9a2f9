namespace Retort.Hub.Hub;

/// <summary>
/// Where and how to reach the Hugging Face hub, read from the same variables huggingface_hub reads
/// (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE) and, without HF_TOKEN, from the token file that
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

    /// <summary>Settings from environment variables, read through <paramref name="getVariable"/> so tests need not touch the process environment.</summary>
    public static HubSettings FromEnvironment(Func<string, string?> getVariable)
    {
        var endpoint = getVariable("HF_ENDPOINT");
        var token = getVariable("HF_TOKEN");
        // The older name is still set by many setups.
        if (string.IsNullOrWhiteSpace(token)) token = getVariable("HUGGING_FACE_HUB_TOKEN");
        if (string.IsNullOrWhiteSpace(token)) token = ReadTokenFile(TokenPath(getVariable));
        return new HubSettings
        {
            Endpoint = string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : endpoint.Trim().TrimEnd('/'),
            Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim(),
            Offline = IsTrue(getVariable("HF_HUB_OFFLINE")),
        };
    }

    public HubSettings WithOffline(bool offline) => new()
    {
        Endpoint = Endpoint, Token = Token, Offline = Offline || offline, ParallelDownloads = ParallelDownloads,
    };

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

    // huggingface_hub's reading of boolean variables.
    private static bool IsTrue(string? value) =>
        value?.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";
}
