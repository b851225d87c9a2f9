using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Retort.Engine;
using Retort.Hub.Download;

namespace Retort.Hub.Hub;

/// <summary>
/// The two hub calls a pull needs, as huggingface_hub makes them: the file listing
/// (<c>GET /api/models/{repo}/revision/{rev}?blobs=true</c>) and a file's bytes
/// (<c>GET /{repo}/resolve/{rev}/{file}</c>, redirected to a CDN for LFS files). Redirects are
/// followed here, not by HttpClient, so the token goes only to the hub's own host, never to the CDN, and
/// only http(s) targets are followed (never https down to http), a bounded number of times. 429, 5xx,
/// unreachable hosts and stalls (see <see cref="TransferWatchdog"/>) are retried with backoff; every other
/// failure becomes one clear line. Everything the listing says is checked before a file name reaches the disk.
/// </summary>
internal sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;

    /// <summary>A longer file name (in UTF-8 bytes) is refused by common file systems (ext4, NTFS, APFS: 255).</summary>
    internal const int MaxNameBytes = 255;

    /// <summary>Longest relative path a listing may give (UTF-8 bytes); the store's own folders come on top, under PATH_MAX.</summary>
    internal const int MaxPathBytes = 1024;

    /// <summary>The largest file a listing may announce (1 TiB; the biggest model shards are tens of GB).</summary>
    internal const long MaxFileBytes = 1L << 40;

    private readonly HttpClient _http;
    private readonly HubSettings _settings;
    private readonly RetryPolicy _retry;
    private readonly Uri _endpoint;

    public HubClient(HubSettings settings, RetryPolicy retry, HttpMessageHandler? handler = null)
    {
        settings.Validate();
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
            ConnectTimeout = settings.ReadTimeout,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("retort/0.1");
    }

    public string Endpoint => _endpoint.ToString().TrimEnd('/');

    public async Task<RepoListing> ListAsync(string repo, string revision, CancellationToken cancellationToken)
    {
        var uri = new Uri(_endpoint, $"api/models/{EscapePath(repo)}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        for (int attempt = 1; ; attempt++)
        {
            using var response = await SendAsync(uri, rangeFrom: 0, repo, revision, file: null, cancellationToken).ConfigureAwait(false);
            byte[] body;
            try
            {
                body = await ReadListingAsync(response, repo, cancellationToken).ConfigureAwait(false);
            }
            catch (TransferInterruptedException ex)
            {
                if (attempt >= _retry.MaxAttempts)
                    throw new RetortException($"the file listing of {repo} could not be read after {attempt} attempts: {ex.Message}");
                await _retry.Delay(_retry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            return ParseListing(repo, revision, body, response.Url);
        }
    }

    /// <summary>
    /// Opens a file for reading from <paramref name="from"/> on (a Range request when above 0). The caller checks
    /// for 206 versus 200: a server may ignore the range and send the whole file. 416 is returned, not thrown.
    /// </summary>
    public Task<HubResponse> OpenFileAsync(string repo, string revision, string file, long from, CancellationToken cancellationToken)
    {
        var uri = new Uri(_endpoint, $"{EscapePath(repo)}/resolve/{Uri.EscapeDataString(revision)}/{EscapePath(file)}");
        return SendAsync(uri, from, repo, revision, file, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>An address for messages: no query string, where CDN signatures live.</summary>
    internal static string Describe(Uri uri) => uri.IsAbsoluteUri ? uri.GetLeftPart(UriPartial.Path) : uri.OriginalString;

    /// <summary>The listing's bytes, refused past <see cref="HubSettings.MaxListingBytes"/> before they are all in memory.</summary>
    private async Task<byte[]> ReadListingAsync(HubResponse response, string repo, CancellationToken cancellationToken)
    {
        long cap = _settings.MaxListingBytes;
        RetortException TooLarge(long? declared) => new(
            $"the file listing of {repo} from {response.Url} is {(declared is null ? "" : $"{declared} bytes, ")}over the limit of {cap} bytes ({cap / 1048576.0:0.#} MiB): expected one repo's model info");
        if (response.Message.Content.Headers.ContentLength is long declared && declared > cap) throw TooLarge(declared);
        using var body = new MemoryStream();
        var buffer = new byte[1 << 16];
        while (true)
        {
            int n = await response.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0) return body.ToArray();
            if (body.Length + n > cap) throw TooLarge(null);
            body.Write(buffer, 0, n);
        }
    }

    private async Task<HubResponse> SendAsync(Uri uri, long rangeFrom, string repo, string revision, string? file, CancellationToken cancellationToken)
    {
        string what = file is null ? $"the file listing of {repo}" : $"{file} of {repo}";
        for (int attempt = 1; ; attempt++)
        {
            // One watchdog per attempt, from the request on: a hub that accepts the connection and never answers stalls too.
            var watchdog = new TransferWatchdog(_settings, cancellationToken);
            var at = new StrongBox<Uri>(uri);
            HttpResponseMessage response;
            try
            {
                response = await FollowRedirectsAsync(at, rangeFrom, what, watchdog.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested && watchdog.StallReason != null))
            {
                string reason = ex is HttpRequestException ? ex.Message : $"{Describe(at.Value!)} did not answer: {watchdog.StallReason}";
                watchdog.Dispose();
                if (attempt >= _retry.MaxAttempts)
                    throw new RetortException($"cannot reach the hub at {Endpoint} for {what} after {attempt} attempts: {reason}"
                        + (file is null ? " (set HF_HUB_OFFLINE=1 to use only the local store)" : "; run the pull again to resume"));
                await _retry.Delay(_retry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch
            {
                watchdog.Dispose();
                throw;
            }
            if (response.IsSuccessStatusCode || (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && rangeFrom > 0))
                return new HubResponse(response, watchdog, at.Value!);

            watchdog.Dispose();
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

    /// <summary>Requests <paramref name="at"/>, following redirects; <paramref name="at"/> holds the address being asked at every moment (for messages).</summary>
    private async Task<HttpResponseMessage> FollowRedirectsAsync(StrongBox<Uri> at, long rangeFrom, string what, CancellationToken cancellationToken)
    {
        var uri = at.Value!;
        var visited = new HashSet<string>(StringComparer.Ordinal) { uri.AbsoluteUri };
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
            if (location is null) throw new RetortException($"the hub redirected {Describe(uri)} ({what}, {code}) without a usable Location header");
            var target = location.IsAbsoluteUri ? location : new Uri(uri, location);
            CheckRedirect(uri, target, what);
            if (!visited.Add(target.AbsoluteUri))
                throw new RetortException($"the hub redirected {Describe(uri)} ({what}) back to {Describe(target)}: a redirect loop after {hop + 1} hop(s)");
            if (hop + 1 >= MaxRedirects)
                throw new RetortException($"the hub redirected {what} more than {MaxRedirects} times (last to {Describe(target)}): expected at most {MaxRedirects}");
            uri = at.Value = target;
        }
    }

    /// <summary>Only http(s) is fetched, and https never hands over to plain http (where the bytes could be changed in transit).</summary>
    internal static void CheckRedirect(Uri from, Uri to, string what)
    {
        if (to.Scheme is not ("http" or "https"))
            throw new RetortException($"the hub redirected {Describe(from)} ({what}) to unsupported scheme '{to.Scheme}': only http and https are followed");
        if (from.Scheme == "https" && to.Scheme == "http")
            throw new RetortException($"the hub redirected {Describe(from)} ({what}) from https to plain http ({Describe(to)}): refused, the download would not be protected");
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

    private RepoListing ParseListing(string repo, string revision, byte[] body, string url)
    {
        string where = $"the file listing of {repo} from {url}";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new RetortException($"{where} is a JSON {root.ValueKind}: expected the hub's model info object");
            string commit = revision;
            if (root.TryGetProperty("sha", out var sha) && sha.ValueKind == JsonValueKind.String)
            {
                commit = sha.GetString()!;
                // Commit ids end up in addresses, the manifest and the terminal: nothing but a git object id.
                if (commit.Length is not (40 or 64) || !commit.All(char.IsAsciiHexDigit))
                    throw new RetortException($"{where}: 'sha' is '{Printable(commit)}', expected a commit id of 40 hex digits");
            }
            if (!root.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array)
                throw new RetortException($"{where} has no 'siblings' array: expected the hub's model info");
            int count = siblings.GetArrayLength();
            if (count > _settings.MaxListingFiles)
                throw new RetortException($"{where} names {count} files, over the limit of {_settings.MaxListingFiles}");
            var files = new List<HubFile>(count);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in siblings.EnumerateArray())
            {
                string name = s.GetProperty("rfilename").GetString() ?? "";
                CheckFileName(name, where);
                if (!names.Add(name)) throw new RetortException($"{where}: file '{name}' is listed twice");
                string? lfsSha = null;
                long? size = s.TryGetProperty("size", out var sz) && sz.ValueKind == JsonValueKind.Number ? sz.GetInt64() : null;
                if (s.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                {
                    if (lfs.TryGetProperty("sha256", out var h) && h.ValueKind == JsonValueKind.String) lfsSha = h.GetString()!.ToLowerInvariant();
                    if (lfs.TryGetProperty("size", out var ls) && ls.ValueKind == JsonValueKind.Number) size = ls.GetInt64();
                }
                if (size is not >= 0)
                    throw new RetortException($"{where}: file '{name}' has no size (expected the listing with blobs=true)");
                if (size > MaxFileBytes)
                    throw new RetortException($"{where}: file '{name}' is said to be {size} bytes, over the limit of {MaxFileBytes} (1 TiB)");
                if (lfsSha is not null && (lfsSha.Length != 64 || !lfsSha.All(Uri.IsHexDigit)))
                    throw new RetortException($"{where}: file '{name}' has a malformed sha256 '{Printable(lfsSha)}'");
                files.Add(new HubFile(name, size.Value, lfsSha));
            }
            // A file and a folder of the same name cannot both be written.
            foreach (string name in names)
                for (int slash = name.IndexOf('/'); slash > 0; slash = name.IndexOf('/', slash + 1))
                    if (names.Contains(name[..slash]))
                        throw new RetortException($"{where}: '{name[..slash]}' is listed both as a file and as the folder of '{name}'");
            return new RepoListing(repo, commit, files);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new RetortException($"{where} is not the expected JSON: {ex.Message}");
        }
    }

    /// <summary>
    /// A listing decides where files are written, so a name is checked before any folder is made: a relative
    /// '/'-separated path inside the repo, without empty, '.' or '..' segments, backslashes, control or
    /// malformed characters, each segment at most <see cref="MaxNameBytes"/> bytes and the whole at most
    /// <see cref="MaxPathBytes"/> bytes of UTF-8.
    /// </summary>
    internal static void CheckFileName(string name, string where)
    {
        string? problem = null;
        if (name.Length == 0) problem = "it is empty";
        else if (name.StartsWith('/') || Path.IsPathRooted(name) || (name.Length >= 2 && char.IsAsciiLetter(name[0]) && name[1] == ':')) problem = "it is an absolute path";
        else if (name.Contains('\\')) problem = "it contains a backslash";
        else if (name.Any(char.IsControl)) problem = "it contains a control character";
        else if (!IsWellFormedUtf16(name)) problem = "it contains a malformed (unpaired surrogate) character";
        else if (name.Split('/').FirstOrDefault(part => part is "" or "." or "..") is { } bad) problem = bad.Length == 0 ? "it has an empty segment" : $"it has a '{bad}' segment";
        else if (name.Split('/').FirstOrDefault(part => Encoding.UTF8.GetByteCount(part) > MaxNameBytes) is { } longPart)
            problem = $"a segment is {Encoding.UTF8.GetByteCount(longPart)} bytes long, over the {MaxNameBytes} a file name may have";
        else if (Encoding.UTF8.GetByteCount(name) > MaxPathBytes) problem = $"it is {Encoding.UTF8.GetByteCount(name)} bytes long, over the limit of {MaxPathBytes}";
        if (problem != null)
            throw new RetortException($"{where}: unsafe file name '{Printable(name)}' ({problem}): expected a relative path inside the repo");
    }

    private static bool IsWellFormedUtf16(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return false;
        }
        return true;
    }

    /// <summary>Text from the network as it may appear in a one-line message: control characters escaped, long text cut.</summary>
    internal static string Printable(string text)
    {
        const int Keep = 120;
        var sb = new StringBuilder();
        foreach (char c in text.Length > Keep ? text[..Keep] : text)
            sb.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c);
        if (text.Length > Keep) sb.Append($"… ({text.Length} characters)");
        return sb.ToString();
    }
}
