namespace Retort.Hub.Hub;

/// <summary>
/// Where and how to reach the Hugging Face hub, read from the same variables huggingface_hub reads
/// (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE). A class rather than a record so that no generated
/// ToString can ever print the token.
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

    // huggingface_hub's reading of boolean variables.
    private static bool IsTrue(string? value) =>
        value?.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";
}
