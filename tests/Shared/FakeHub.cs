using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Retort.Tests.Support;

/// <summary>
/// A stand-in for the Hugging Face hub on 127.0.0.1 (a real Kestrel server on a free port) with the two calls a
/// pull makes: the listing (<c>/api/models/{repo}/revision/{rev}</c>, with sizes and LFS sha256 computed here)
/// and <c>/{repo}/resolve/{rev}/{file}</c>, which redirects LFS files to <c>/cdn/...</c> as the hub does. It honours
/// Range requests and can be told to misbehave: cut a transfer at a byte offset, serve corrupted bytes, demand a
/// token, answer an error status (with Retry-After) a number of times, never answer, stall or trickle a listing or a
/// file, send a huge or a hand-written listing, or redirect a file anywhere (file://, a loop, an endless chain).
/// Every request is recorded.
/// </summary>
internal sealed class FakeHub : IAsyncDisposable
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";

    /// <summary>The revision listings report (<see cref="Commit"/> until a test publishes a new one).</summary>
    public string Revision { get; set; } = Commit;

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte[]>> _repos = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (long Offset, int Times)> _cuts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _corrupt = new(StringComparer.Ordinal);
    private readonly List<FailureRule> _failures = [];
    private readonly ConcurrentDictionary<string, string> _redirects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (int Bytes, TimeSpan Every)> _trickles = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _silent = [];
    private ListingFault? _listingFault;

    private FakeHub(WebApplication app)
    {
        _app = app;
        _app.Run(HandleAsync);
    }

    public string Endpoint { get; private set; } = "";

    public ConcurrentQueue<FakeHubRequest> Requests { get; } = new();

    /// <summary>When set, the API and resolve calls need <c>Authorization: Bearer</c> this token (401 otherwise).</summary>
    public string? RequiredToken { get; set; }

    public static async Task<FakeHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Stalling handlers end when the client leaves or the hub stops; never hold a test's teardown for long.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var hub = new FakeHub(builder.Build());
        await hub._app.StartAsync();
        hub.Endpoint = hub._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return hub;
    }

    /// <summary>Serves every file under <paramref name="folder"/> as <paramref name="repo"/>, under its relative path.</summary>
    public void AddFolder(string repo, string folder)
    {
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            AddFile(repo, Path.GetRelativePath(folder, path).Replace('\\', '/'), File.ReadAllBytes(path));
    }

    public void AddFile(string repo, string path, byte[] bytes) =>
        _repos.GetOrAdd(repo, _ => new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal))[path] = bytes;

    /// <summary>The next <paramref name="times"/> transfers of <paramref name="path"/> that reach byte <paramref name="offset"/> stop there and drop the connection.</summary>
    public void CutAt(string path, long offset, int times = 1) => _cuts[path] = (offset, times);

    public void StopCutting(string path) => _cuts.TryRemove(path, out _);

    /// <summary>Serves <paramref name="path"/> with its bytes changed (the same length, or one byte longer), while the listing keeps the original checksum and size.</summary>
    public void Corrupt(string repo, string path, bool appendByte = false)
    {
        var bytes = (byte[])_repos[repo][path].Clone();
        if (appendByte) bytes = [.. bytes, 0x2A];
        else bytes[bytes.Length / 2] ^= 0xFF;
        _corrupt[path] = bytes;
    }

    /// <summary>
    /// Requests whose path contains <paramref name="pathPart"/> get <paramref name="status"/>, <paramref name="times"/> times,
    /// after the first <paramref name="skip"/> such requests were served normally.
    /// </summary>
    public void Fail(string pathPart, int status, int times = int.MaxValue, string? retryAfter = null, int skip = 0)
    {
        lock (_failures) _failures.Add(new FailureRule(pathPart, status, retryAfter) { Remaining = times, Skip = skip });
    }

    /// <summary>Requests whose path contains <paramref name="pathPart"/> get no answer at all (not even headers) until the client gives up.</summary>
    public void NeverAnswer(string pathPart) => _silent.Add(pathPart);

    /// <summary>The listing sends its headers and the first <paramref name="afterBytes"/> bytes of its body, then nothing more.</summary>
    public void StallListing(int afterBytes = 0) => _listingFault = new ListingFault(StallAfter: afterBytes);

    /// <summary>The listing is well-formed JSON of <paramref name="bytes"/> bytes (padded with spaces), its length declared up front or not.</summary>
    public void HugeListing(long bytes, bool declareLength) => _listingFault = new ListingFault(HugeBytes: bytes, DeclareLength: declareLength);

    /// <summary>Every listing is exactly <paramref name="json"/> (bad names, duplicates, odd sizes: whatever a test writes).</summary>
    public void RawListing(string json) => _listingFault = new ListingFault(Json: json);

    /// <summary>Transfers of <paramref name="path"/> send <paramref name="bytes"/> bytes every <paramref name="every"/>.</summary>
    public void Trickle(string path, int bytes, TimeSpan every) => _trickles[path] = (bytes, every);

    public void StopTrickling(string path) => _trickles.TryRemove(path, out _);

    /// <summary>
    /// <c>/resolve/</c> of <paramref name="path"/> answers 302 to <paramref name="location"/>, taken as it is: "file:///etc/passwd",
    /// "ftp://…", "/loop" (which redirects to itself) or "/chain/0" (each /chain/N to /chain/N+1, for ever).
    /// </summary>
    public void Redirect(string path, string location) => _redirects[path] = location;

    public void ClearFailures()
    {
        lock (_failures) _failures.Clear();
    }

    public IEnumerable<FakeHubRequest> RequestsFor(string file) => Requests.Where(r => r.Path.EndsWith("/" + file, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        string path = Uri.UnescapeDataString(ctx.Request.Path.Value ?? "");
        Requests.Enqueue(new FakeHubRequest(path, ctx.Request.Headers.Range.ToString() is { Length: > 0 } r ? r : null,
            ctx.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null));

        if (_silent.Any(part => path.Contains(part, StringComparison.Ordinal)))
        {
            await WaitForTheClientToLeave(ctx);
            return;
        }
        if (path == "/loop" || path.StartsWith("/chain/", StringComparison.Ordinal))
        {
            ctx.Response.StatusCode = 302;
            ctx.Response.Headers.Location = path == "/loop" ? "/loop" : "/chain/" + (int.Parse(path["/chain/".Length..]) + 1);
            return;
        }
        if (TakeFailure(path) is { } failure)
        {
            if (failure.RetryAfter is not null) ctx.Response.Headers.RetryAfter = failure.RetryAfter;
            ctx.Response.StatusCode = failure.Status;
            await ctx.Response.WriteAsync($"{{\"error\":\"fake {failure.Status}\"}}");
            return;
        }
        var parts = path.Trim('/').Split('/');
        bool cdn = parts[0] == "cdn";
        if (!cdn && RequiredToken is not null && ctx.Request.Headers.Authorization.ToString() != "Bearer " + RequiredToken)
        {
            ctx.Response.StatusCode = 401;
            await ctx.Response.WriteAsync("{\"error\":\"Invalid username or password.\"}");
            return;
        }

        if (parts.Length >= 6 && parts[0] == "api" && parts[1] == "models" && parts[4] == "revision")
        {
            await ListAsync(ctx, parts[2] + "/" + parts[3]);
            return;
        }
        if (parts.Length >= 5 && parts[2] == "resolve")
        {
            string repo = parts[0] + "/" + parts[1], file = string.Join('/', parts[4..]);
            if (_redirects.TryGetValue(file, out var location))
            {
                ctx.Response.StatusCode = 302;
                ctx.Response.Headers.Location = location;
                return;
            }
            if (!TryGet(repo, file, out _))
            {
                ctx.Response.StatusCode = 404;
                return;
            }
            if (IsLfs(file))
            {
                ctx.Response.StatusCode = 302;
                ctx.Response.Headers.Location = $"/cdn/{repo}/{file}";
                return;
            }
            await ServeAsync(ctx, repo, file);
            return;
        }
        if (cdn && parts.Length >= 4)
        {
            await ServeAsync(ctx, parts[1] + "/" + parts[2], string.Join('/', parts[3..]));
            return;
        }
        ctx.Response.StatusCode = 404;
    }

    private async Task ListAsync(HttpContext ctx, string repo)
    {
        if (_listingFault is { } fault && await ListBadlyAsync(ctx, repo, fault)) return;
        if (!_repos.TryGetValue(repo, out var files))
        {
            ctx.Response.StatusCode = 404;
            await ctx.Response.WriteAsync("{\"error\":\"Repository not found\"}");
            return;
        }
        var siblings = files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => IsLfs(f.Key)
            ? (object)new { rfilename = f.Key, size = f.Value.LongLength, blobId = "b", lfs = new { sha256 = Sha256(f.Value), size = f.Value.LongLength, pointerSize = 134 } }
            : new { rfilename = f.Key, size = f.Value.LongLength, blobId = "b" });
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(JsonSerializer.Serialize(new { id = repo, sha = Revision, siblings }));
    }

    /// <summary>Answers the listing as <paramref name="fault"/> says; false when the fault needs the normal listing (a stall after its first bytes).</summary>
    private async Task<bool> ListBadlyAsync(HttpContext ctx, string repo, ListingFault fault)
    {
        ctx.Response.ContentType = "application/json";
        if (fault.Json is { } json)
        {
            await ctx.Response.WriteAsync(json);
            return true;
        }
        if (fault.HugeBytes is long huge)
        {
            byte[] head = System.Text.Encoding.UTF8.GetBytes($"{{\"id\":\"{repo}\",\"sha\":\"{Revision}\",\"siblings\":[");
            byte[] tail = "]}"u8.ToArray();
            if (fault.DeclareLength) ctx.Response.ContentLength = huge;
            await ctx.Response.Body.WriteAsync(head, ctx.RequestAborted);
            var spaces = new byte[1 << 16];
            Array.Fill(spaces, (byte)' ');
            try
            {
                for (long left = huge - head.Length - tail.Length; left > 0; left -= spaces.Length)
                    await ctx.Response.Body.WriteAsync(spaces.AsMemory(0, (int)Math.Min(left, spaces.Length)), ctx.RequestAborted);
                await ctx.Response.Body.WriteAsync(tail, ctx.RequestAborted);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The client stopped reading at its limit.
            }
            return true;
        }
        // A stall: headers (and maybe the start of the real listing), then silence.
        var files = _repos.GetValueOrDefault(repo) ?? new ConcurrentDictionary<string, byte[]>();
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new { id = repo, sha = Revision, siblings = files.Keys.Select(k => new { rfilename = k, size = files[k].LongLength }) });
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.StartAsync();
        await ctx.Response.Body.WriteAsync(body.AsMemory(0, Math.Min(fault.StallAfter, body.Length - 1)));
        await ctx.Response.Body.FlushAsync();
        await WaitForTheClientToLeave(ctx);
        return true;
    }

    private async Task WaitForTheClientToLeave(HttpContext ctx)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _app.Lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(5), either.Token);
        }
        catch (OperationCanceledException)
        {
            // The client gave up (what a stall test expects), or the hub is stopping.
        }
    }

    private async Task ServeAsync(HttpContext ctx, string repo, string file)
    {
        if (!TryGet(repo, file, out var bytes))
        {
            ctx.Response.StatusCode = 404;
            return;
        }
        if (_corrupt.TryGetValue(file, out var corrupt)) bytes = corrupt;
        long start = 0, end = bytes.LongLength - 1;
        string range = ctx.Request.Headers.Range.ToString();
        if (range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            var se = range["bytes=".Length..].Split('-');
            start = long.Parse(se[0]);
            if (se.Length > 1 && se[1].Length > 0) end = Math.Min(end, long.Parse(se[1]));
            if (start >= bytes.LongLength)
            {
                ctx.Response.StatusCode = 416;
                ctx.Response.Headers.ContentRange = $"bytes */{bytes.LongLength}";
                return;
            }
            ctx.Response.StatusCode = 206;
            ctx.Response.Headers.ContentRange = $"bytes {start}-{end}/{bytes.LongLength}";
        }
        ctx.Response.ContentLength = end - start + 1;
        ctx.Response.ContentType = "application/octet-stream";

        long stop = end + 1;
        bool cut = false;
        if (_cuts.TryGetValue(file, out var c) && c.Times > 0 && c.Offset >= start && c.Offset <= end)
        {
            _cuts[file] = (c.Offset, c.Times - 1);
            stop = c.Offset;
            cut = true;
        }
        if (_trickles.TryGetValue(file, out var trickle))
        {
            await TrickleAsync(ctx, bytes.AsMemory((int)start, (int)(stop - start)), trickle.Bytes, trickle.Every);
            return;
        }
        await ctx.Response.Body.WriteAsync(bytes.AsMemory((int)start, (int)(stop - start)));
        if (cut)
        {
            await ctx.Response.Body.FlushAsync();
            // Abort sends a reset, which discards whatever the client has not read yet: give it a
            // moment to take the bytes, so the cut lands at (or, on a busy machine, before) the offset.
            await Task.Delay(300);
            ctx.Abort();
        }
    }

    private async Task TrickleAsync(HttpContext ctx, ReadOnlyMemory<byte> bytes, int chunk, TimeSpan every)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _app.Lifetime.ApplicationStopping);
        try
        {
            for (int at = 0; at < bytes.Length; at += chunk)
            {
                await ctx.Response.Body.WriteAsync(bytes.Slice(at, Math.Min(chunk, bytes.Length - at)), either.Token);
                await ctx.Response.Body.FlushAsync(either.Token);
                if (at + chunk < bytes.Length) await Task.Delay(every, either.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client judged the trickle a stall and left.
        }
    }

    private bool TryGet(string repo, string file, out byte[] bytes)
    {
        bytes = [];
        return _repos.TryGetValue(repo, out var files) && files.TryGetValue(file, out bytes!);
    }

    private FailureRule? TakeFailure(string path)
    {
        lock (_failures)
        {
            var rule = _failures.FirstOrDefault(f => f.Remaining > 0 && path.Contains(f.PathPart, StringComparison.Ordinal));
            if (rule is null) return null;
            if (rule.Skip > 0)
            {
                rule.Skip--;
                return null;
            }
            rule.Remaining--;
            return rule;
        }
    }

    // As on the hub: weights go through LFS (with a sha256), small text files are plain git blobs.
    private static bool IsLfs(string file) => Path.GetExtension(file) is ".safetensors" or ".gguf" or ".bin" or ".onnx";

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private sealed record ListingFault(int StallAfter = 0, long? HugeBytes = null, bool DeclareLength = false, string? Json = null);

    private sealed record FailureRule(string PathPart, int Status, string? RetryAfter)
    {
        public int Remaining { get; set; }

        public int Skip { get; set; }
    }
}

/// <summary>One request the fake hub received.</summary>
internal sealed record FakeHubRequest(string Path, string? Range, string? Authorization);
