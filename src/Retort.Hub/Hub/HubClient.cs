using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Retort.Engine;

namespace Retort.Hub.Hub;

/// <summary>
/// The two hub calls a pull needs, as huggingface_hub makes them: the file listing
/// (<c>GET /api/models/{repo}/revision/{rev}?blobs=true</c>) and a file's bytes
/// (<c>GET /{repo}/resolve/{rev}/{file}</c>, redirected to a CDN for LFS files). Redirects are
/// followed here so the token goes only to the hub's own host, never to the CDN. 429, 5xx and
/// unreachable hosts are retried with backoff; every other failure becomes one clear line.
/// </summary>
internal sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private readonly HttpClient _http;
    private readonly HubSettings _settings;
    private readonly RetryPolicy _retry;
    private readonly Uri _endpoint;

    public HubClient(HubSettings settings, RetryPolicy retry, HttpMessageHandler? handler = null)
    {
        _settings = settings;
        _retry = retry;
        if (!Uri.TryCreate(settings.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new RetortException($"HF_ENDPOINT '{settings.Endpoint}' is not an http(s) address: expected e.g. {HubSettings.DefaultEndpoint}");
        _endpoint = endpoint;
        handler ??= new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            // Sizes, ranges and checksums are about the stored bytes, never a re-encoded stream.
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("retort/0.1");
    }

    public string Endpoint => _endpoint.ToString().TrimEnd('/');

    public async Task<RepoListing> ListAsync(string repo, string revision, CancellationToken cancellationToken)
    {
        var uri = new Uri(_endpoint, $"api/models/{EscapePath(repo)}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        using var response = await SendAsync(uri, rangeFrom: 0, repo, revision, file: null, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return ParseListing(repo, revision, body);
    }

    /// <summary>
    /// Opens a file for reading from <paramref name="from"/> on (a Range request when above 0). The caller checks
    /// for 206 versus 200: a server may ignore the range and send the whole file. 416 is returned, not thrown.
    /// </summary>
    public Task<HttpResponseMessage> OpenFileAsync(string repo, string revision, string file, long from, CancellationToken cancellationToken)
    {
        var uri = new Uri(_endpoint, $"{EscapePath(repo)}/resolve/{Uri.EscapeDataString(revision)}/{EscapePath(file)}");
        return SendAsync(uri, from, repo, revision, file, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(Uri uri, long rangeFrom, string repo, string revision, string? file, CancellationToken cancellationToken)
    {
        string what = file is null ? $"the file listing of {repo}" : $"{file} of {repo}";
        for (int attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                response = await FollowRedirectsAsync(uri, rangeFrom, what, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                if (attempt >= _retry.MaxAttempts)
                    throw new RetortException($"cannot reach the hub at {Endpoint} for {what} after {attempt} attempts: {ex.Message}"
                        + (file is null ? " (set HF_HUB_OFFLINE=1 to use only the local store)" : "; run the pull again to resume"));
                await _retry.Delay(_retry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (response.IsSuccessStatusCode || (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && rangeFrom > 0))
                return response;

            var status = response.StatusCode;
            var wait = RetryAfter(response.Headers.RetryAfter) ?? _retry.Backoff(attempt);
            response.Dispose();
            bool transient = status == HttpStatusCode.TooManyRequests || (int)status >= 500;
            if (transient && attempt < _retry.MaxAttempts)
            {
                await _retry.Delay(_retry.Clamp(wait), cancellationToken).ConfigureAwait(false);
                continue;
            }
            throw Failure(status, attempt, repo, revision, file, what);
        }
    }

    private async Task<HttpResponseMessage> FollowRedirectsAsync(Uri uri, long rangeFrom, string what, CancellationToken cancellationToken)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            // The token is for the hub; a CDN gets a signed address instead and must not see it.
            if (_settings.Token is not null && SameOrigin(uri, _endpoint))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _settings.Token);
            if (rangeFrom > 0) request.Headers.Range = new RangeHeaderValue(rangeFrom, null);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            int code = (int)response.StatusCode;
            if (code is not (301 or 302 or 303 or 307 or 308)) return response;
            var location = response.Headers.Location;
            response.Dispose();
            if (location is null) throw new RetortException($"the hub redirected {what} ({code}) without a Location header");
            if (hop >= MaxRedirects) throw new RetortException($"the hub redirected {what} more than {MaxRedirects} times");
            uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
        }
    }

    private RetortException Failure(HttpStatusCode status, int attempts, string repo, string revision, string? file, string what)
    {
        int code = (int)status;
        return status switch
        {
            // The hub answers 401 for private and for non-existent repos alike, so both are named.
            HttpStatusCode.Unauthorized when _settings.Token is null =>
                new RetortException($"the hub refused {what} (401 Unauthorized): the repo is gated or private (or does not exist); accept its terms on {Endpoint}/{repo} and set HF_TOKEN to a read token"),
            HttpStatusCode.Unauthorized =>
                new RetortException($"the hub refused {what} (401 Unauthorized) with the token in HF_TOKEN: check that the token is valid, or that the repo exists"),
            HttpStatusCode.Forbidden =>
                new RetortException($"the hub refused {what} (403 Forbidden): the repo is gated; accept its terms on {Endpoint}/{repo} with the account whose token is in HF_TOKEN"),
            HttpStatusCode.NotFound when file is null =>
                new RetortException($"repository '{repo}' (revision {revision}) not found on {Endpoint} (404): expected an existing owner/name"),
            HttpStatusCode.NotFound =>
                new RetortException($"file '{file}' not found in {repo} at revision {revision} (404)"),
            HttpStatusCode.TooManyRequests =>
                new RetortException($"the hub kept answering 429 Too Many Requests for {what} after {attempts} attempts: wait a few minutes and pull again (a HF_TOKEN raises the limit)"),
            _ => new RetortException($"the hub answered {code} {status} for {what} after {attempts} attempt(s)"),
        };
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? value) =>
        value?.Delta ?? (value?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private RepoListing ParseListing(string repo, string revision, byte[] body)
    {
        string where = $"the file listing of {repo} from {Endpoint}";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            string commit = root.TryGetProperty("sha", out var sha) && sha.ValueKind == JsonValueKind.String ? sha.GetString()! : revision;
            if (!root.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array)
                throw new RetortException($"{where} has no 'siblings' array: expected the hub's model info");
            var files = new List<HubFile>();
            foreach (var s in siblings.EnumerateArray())
            {
                string name = s.GetProperty("rfilename").GetString() ?? "";
                CheckFileName(name, where);
                string? lfsSha = null;
                long? size = s.TryGetProperty("size", out var sz) && sz.ValueKind == JsonValueKind.Number ? sz.GetInt64() : null;
                if (s.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                {
                    if (lfs.TryGetProperty("sha256", out var h) && h.ValueKind == JsonValueKind.String) lfsSha = h.GetString()!.ToLowerInvariant();
                    if (lfs.TryGetProperty("size", out var ls) && ls.ValueKind == JsonValueKind.Number) size = ls.GetInt64();
                }
                if (size is not >= 0)
                    throw new RetortException($"{where}: file '{name}' has no size (expected the listing with blobs=true)");
                if (lfsSha is not null && (lfsSha.Length != 64 || !lfsSha.All(Uri.IsHexDigit)))
                    throw new RetortException($"{where}: file '{name}' has a malformed sha256 '{lfsSha}'");
                files.Add(new HubFile(name, size.Value, lfsSha));
            }
            return new RepoListing(repo, commit, files);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new RetortException($"{where} is not the expected JSON: {ex.Message}");
        }
    }

    /// <summary>A listing decides where files are written, so a name that could leave the model's folder is refused.</summary>
    private static void CheckFileName(string name, string where)
    {
        bool unsafeName = name.Length == 0 || name.Contains('\\') || name.Contains('\0') || Path.IsPathRooted(name) || name.StartsWith('/')
            || name.Split('/').Any(part => part is "" or "." or "..");
        if (unsafeName) throw new RetortException($"{where}: unsafe file name '{name}': expected a relative path inside the repo");
    }
}
