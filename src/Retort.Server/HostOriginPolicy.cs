using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Retort.Engine;

namespace Retort.Server;

/// <summary>
/// Which browsers may talk to the server. A server without a key on this machine is reachable by every
/// web page the user opens, two ways: a page can send it "simple" cross-site requests (a text/plain
/// POST needs no CORS preflight), and a page whose domain is re-pointed at 127.0.0.1 (DNS rebinding)
/// is same-origin with it and can read the answers. The first is closed by checking Origin on every
/// request that is not GET or HEAD, the second by checking Host. Requests without Origin (curl, SDKs)
/// and the server's own chat page are not affected.
/// </summary>
internal sealed class HostOriginPolicy
{
    /// <summary>What a preflight allows: the methods the API has, and how long a browser may cache it.</summary>
    private const string AllowedMethods = "GET, HEAD, POST, OPTIONS";
    private const string PreflightMaxAgeSeconds = "600";

    private readonly bool _checkHost;
    private readonly HashSet<string> _hosts = new(StringComparer.Ordinal);
    private readonly List<string> _hostSuffixes = [];
    private readonly bool _anyOrigin;
    private readonly HashSet<string> _origins = new(StringComparer.Ordinal);

    /// <param name="boundToLoopback">The server listens on a loopback address: Host is then always checked.</param>
    /// <exception cref="RetortException">An allowed host or origin is malformed.</exception>
    public HostOriginPolicy(ServerOptions options, bool boundToLoopback)
    {
        bool anyHost = false;
        foreach (string entry in options.AllowedHosts)
        {
            string value = entry.Trim();
            if (value == "*") anyHost = true;
            else if (value.StartsWith("*.", StringComparison.Ordinal) && NormalizeName(value[2..]) is { } suffix)
                _hostSuffixes.Add("." + suffix);
            else
                _hosts.Add(NormalizeHostEntry(value) ?? throw new RetortException(
                    $"--allowed-host takes a host name or IP address without scheme or port (example.com, *.example.com, 10.0.0.5, *), found '{entry}'"));
        }
        _checkHost = !anyHost && (boundToLoopback || options.AllowedHosts.Count > 0);
        foreach (string entry in options.CorsOrigins)
        {
            string value = entry.Trim();
            if (value == "*") _anyOrigin = true;
            else if (value == "null") _origins.Add("null");
            else
                _origins.Add(NormalizeOrigin(value.EndsWith('/') ? value[..^1] : value) ?? throw new RetortException(
                    $"--cors-origin takes an origin: scheme, host and optional port without path (http://localhost:3000), 'null' or *, found '{entry}'"));
        }
    }

    /// <summary>Null when the request's Host may be answered; otherwise the status (403, or 400 for a malformed Host) and why, in one line.</summary>
    public (int Status, string Message)? RefuseHost(HttpRequest request)
    {
        if (!_checkHost) return null;
        string value = request.Headers.Host.ToString();
        if (value.Length == 0) return (403, "the request has no Host header; this server answers only to localhost, 127.0.0.1 and [::1]");
        string shown = Shorten(value);
        if (ParseAuthority(value) is not { } authority) return (400, $"the Host header '{shown}' is not a host name or IP address with an optional port");
        if (IsAllowedHost(authority.Host)) return null;
        return (403, $"the Host '{shown}' is not allowed: this server answers only to localhost, 127.0.0.1, [::1]" +
                     (_hosts.Count + _hostSuffixes.Count > 0 ? " and the names given with --allowed-host" : "") +
                     $" (against DNS rebinding); to reach it by this name, start it with --allowed-host {Unbracket(authority.Host)}");
    }

    /// <summary>
    /// Null when the request may go on; otherwise why it is refused. GET and HEAD pass (they change
    /// nothing, and without CORS headers a foreign page cannot read their answers); every other method
    /// needs no Origin, the server's own origin, or one allowed with --cors-origin.
    /// </summary>
    public string? RefuseOrigin(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) return null;
        var origins = request.Headers.Origin;
        if (origins.Count == 0)
        {
            // Browsers send Origin on every cross-origin request that is not GET or HEAD; these headers say
            // a browser sent this one from another page anyway.
            string site = request.Headers["Sec-Fetch-Site"].ToString();
            return site is "cross-site" or "same-site"
                ? $"a {site} request without an Origin header is refused; start the server with --cors-origin to allow web pages"
                : null;
        }
        string origin = origins.ToString();
        if (origins.Count == 1 && (IsSameOrigin(request, origin) || IsAllowedOrigin(origin))) return null;
        string shown = Shorten(origin);
        return $"a cross-origin {request.Method} from '{shown}' is refused (against cross-site requests from web pages); " +
               $"to allow that page, start the server with --cors-origin {shown}";
    }

    /// <summary>The CORS headers of an allowed origin, on every answer to it (streams included).</summary>
    public void AddCorsHeaders(HttpContext context)
    {
        var request = context.Request;
        var headers = context.Response.Headers;
        if (_anyOrigin || _origins.Count > 0) headers.Append("Vary", "Origin");
        if (request.Headers.Origin.Count != 1) return;
        string origin = request.Headers.Origin.ToString();
        if (!IsAllowedOrigin(origin)) return;
        headers.AccessControlAllowOrigin = origin;
        headers.AccessControlExposeHeaders = "Retry-After";
    }

    /// <summary>
    /// Answers OPTIONS: a preflight from an allowed origin gets the methods and headers it may use;
    /// anything else (no Origin, or the server's own) just the methods. Refused origins never get here.
    /// </summary>
    public void AnswerOptions(HttpContext context)
    {
        var request = context.Request;
        var headers = context.Response.Headers;
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        headers.Allow = AllowedMethods;
        if (request.Headers.Origin.Count != 1 || !IsAllowedOrigin(request.Headers.Origin.ToString())) return;
        headers.AccessControlAllowMethods = AllowedMethods;
        // What the page asks for, when it is a plain list of header names (an SDK adds its own), and always
        // the two the API needs.
        var names = new List<string> { "Authorization", "Content-Type" };
        foreach (string name in request.Headers.AccessControlRequestHeaders.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            if (IsToken(name) && !names.Contains(name, StringComparer.OrdinalIgnoreCase)) names.Add(name);
        headers.AccessControlAllowHeaders = string.Join(", ", names);
        headers.AccessControlMaxAge = PreflightMaxAgeSeconds;
        // Chrome's Private Network Access: a public page calling a local server asks for this too.
        if (request.Headers["Access-Control-Request-Private-Network"] == "true") headers["Access-Control-Allow-Private-Network"] = "true";
    }

    private bool IsAllowedHost(string host)
    {
        if (IsLoopbackHost(host) || _hosts.Contains(host)) return true;
        foreach (string suffix in _hostSuffixes)
            if (host.EndsWith(suffix, StringComparison.Ordinal)) return true;
        return false;
    }

    private bool IsAllowedOrigin(string origin) =>
        _anyOrigin || (origin == "null" ? _origins.Contains("null") : NormalizeOrigin(origin) is { } o && _origins.Contains(o));

    /// <summary>The page's origin is the request's own: same scheme, host and port (the server's chat page).</summary>
    private static bool IsSameOrigin(HttpRequest request, string origin)
    {
        if (NormalizeOrigin(origin) is not { } page) return false;
        if (ParseAuthority(request.Headers.Host.ToString()) is not { } own) return false;
        string scheme = request.Scheme.ToLowerInvariant();
        return page == Serialize(scheme, own.Host, own.Port ?? DefaultPort(scheme));
    }

    /// <summary>localhost, any name under .localhost (RFC 6761: resolved to this machine by the resolver and
    /// browsers themselves), or a loopback IP address (127.0.0.0/8, ::1, and IPv4-mapped forms).</summary>
    private static bool IsLoopbackHost(string host)
    {
        if (host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal)) return true;
        if (!IPAddress.TryParse(Unbracket(host), out var ip)) return false;
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        return IPAddress.IsLoopback(ip);
    }

    /// <summary>
    /// A Host header (or an origin's authority) as host and port: the host in lower case without the
    /// trailing dot of an absolute name, an IPv6 address in brackets and canonical form. Null when malformed.
    /// </summary>
    internal static (string Host, int? Port)? ParseAuthority(string value)
    {
        string host;
        string? port = null;
        if (value.StartsWith('['))
        {
            int close = value.IndexOf(']');
            if (close < 0) return null;
            if (!IPAddress.TryParse(value[1..close], out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6) return null;
            host = "[" + v6 + "]";
            string rest = value[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':') return null;
                port = rest[1..];
            }
        }
        else
        {
            int colon = value.IndexOf(':');
            if (colon >= 0 && value.IndexOf(':', colon + 1) >= 0)
            {
                // An IPv6 address without brackets is not a valid Host, but it names the same machine.
                if (!IPAddress.TryParse(value, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6) return null;
                return ("[" + v6 + "]", null);
            }
            if (colon >= 0) (host, port) = (value[..colon], value[(colon + 1)..]);
            else host = value;
            if (NormalizeName(host) is not { } name) return null;
            host = name;
        }
        if (port is null or "") return (host, null);
        if (port.Length > 5 || !port.All(char.IsAsciiDigit)) return null;
        int number = int.Parse(port, CultureInfo.InvariantCulture);
        return number <= 65535 ? (host, number) : null;
    }

    /// <summary>A host name or IPv4 address in lower case, without the trailing dot of an absolute name; null if it has other characters.</summary>
    private static string? NormalizeName(string name)
    {
        if (name.EndsWith('.')) name = name[..^1];
        if (name.Length is 0 or > 253) return null;
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')) return null;
        return name.ToLowerInvariant();
    }

    /// <summary>An --allowed-host entry as <see cref="ParseAuthority"/> spells hosts; a port is not allowed.</summary>
    private static string? NormalizeHostEntry(string value) =>
        IPAddress.TryParse(Unbracket(value), out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6
            ? "[" + ip + "]"
            : ParseAuthority(value) is { Port: null } a ? a.Host : null;

    /// <summary>scheme://host:port with the port made explicit, so equal origins compare equal; null when malformed.</summary>
    internal static string? NormalizeOrigin(string origin)
    {
        int sep = origin.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0) return null;
        string scheme = origin[..sep].ToLowerInvariant();
        if (!char.IsAsciiLetter(scheme[0]) || !scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')) return null;
        string authority = origin[(sep + 3)..];
        if (authority.Length == 0 || authority.IndexOfAny(['/', '?', '#', '@', '\\']) >= 0) return null;
        if (ParseAuthority(authority) is not { } a) return null;
        return Serialize(scheme, a.Host, a.Port ?? DefaultPort(scheme));
    }

    private static string Serialize(string scheme, string host, int? port) => port is int p ? $"{scheme}://{host}:{p}" : $"{scheme}://{host}";

    private static int? DefaultPort(string scheme) => scheme switch
    {
        "http" or "ws" => 80,
        "https" or "wss" => 443,
        _ => null,
    };

    private static string Unbracket(string host) => host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;

    /// <summary>An HTTP token (RFC 9110): what a header name is made of.</summary>
    private static bool IsToken(string s) => s.Length is > 0 and <= 64 && s.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c));

    /// <summary>Header values are echoed in errors: bounded, so an error stays one short line.</summary>
    private static string Shorten(string value) => value.Length <= 100 ? value : value[..100] + "…";
}
