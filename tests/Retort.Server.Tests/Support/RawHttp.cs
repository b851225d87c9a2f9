using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Retort.Server.Tests.Support;

/// <summary>
/// HTTP/1.1 over a plain socket: any Host header (HttpClient would check or rewrite some), any bytes as the
/// body, and the response exactly as sent (status, every header, the body with chunking undone).
/// </summary>
internal static class RawHttp
{
    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string Text => Encoding.UTF8.GetString(Body);

        public JsonObject Json => JsonNode.Parse(Text)?.AsObject()
                                  ?? throw new Xunit.Sdk.XunitException($"status {Status}: the body is not a JSON object: '{Text}'");

        public string? Header(string name) => Headers.GetValueOrDefault(name);
    }

    /// <param name="headers">Sent as given; Host defaults to the server's address, Content-Length is added for a body.</param>
    public static async Task<Response> SendAsync(Uri server, string method, string path, IEnumerable<(string Name, string Value)>? headers = null,
        byte[]? body = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = client.GetStream();
        var list = (headers ?? []).ToList();
        var text = new StringBuilder($"{method} {path} HTTP/1.1\r\n");
        if (!list.Any(h => h.Name.Equals("Host", StringComparison.OrdinalIgnoreCase))) text.Append($"Host: {server.Authority}\r\n");
        foreach (var (name, value) in list) text.Append($"{name}: {value}\r\n");
        if (body != null) text.Append($"Content-Length: {body.Length}\r\n");
        text.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.Latin1.GetBytes(text.ToString()), timeout.Token);
        if (body != null) await stream.WriteAsync(body, timeout.Token);
        await stream.FlushAsync(timeout.Token);

        using var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);
        return Parse(received.ToArray(), head: method == "HEAD");
    }

    public static Task<Response> PostAsync(Uri server, string path, string contentType, byte[] body, params (string Name, string Value)[] headers) =>
        SendAsync(server, "POST", path, [("Content-Type", contentType), .. headers], body);

    public static Task<Response> PostJsonAsync(Uri server, string path, string json, params (string Name, string Value)[] headers) =>
        PostAsync(server, path, "application/json", Encoding.UTF8.GetBytes(json), headers);

    private static Response Parse(byte[] raw, bool head)
    {
        int end = raw.AsSpan().IndexOf("\r\n\r\n"u8);
        Assert.True(end > 0, $"no complete response head in {raw.Length} bytes: '{Encoding.Latin1.GetString(raw)}'");
        string[] lines = Encoding.Latin1.GetString(raw, 0, end).Split("\r\n");
        string[] statusLine = lines[0].Split(' ', 3);
        int status = int.Parse(statusLine[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines[1..])
        {
            int colon = line.IndexOf(':');
            string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out string? earlier) ? earlier + ", " + value : value;
        }
        byte[] body = raw[(end + 4)..];
        if (!head && headers.TryGetValue("Transfer-Encoding", out string? te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            body = Dechunk(body);
        return new Response(status, headers, body);
    }

    private static byte[] Dechunk(byte[] data)
    {
        var output = new MemoryStream();
        int at = 0;
        while (true)
        {
            int lineEnd = data.AsSpan(at).IndexOf("\r\n"u8) + at;
            int size = Convert.ToInt32(Encoding.Latin1.GetString(data, at, lineEnd - at).Split(';')[0], 16);
            at = lineEnd + 2;
            if (size == 0) return output.ToArray();
            output.Write(data, at, size);
            at += size + 2;
        }
    }
}
