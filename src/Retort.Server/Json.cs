using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Retort.Server;

/// <summary>Reading request bodies and their fields, with every mistake a 400 that names the field.</summary>
internal static class Json
{
    /// <summary>Chinese and other text stays readable in responses and logs instead of \uXXXX escapes.</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>How deep a request body may nest; deeper is refused before anything recurses into it.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Reads the body as one JSON object. Everything a client can get wrong is a 400 (415 for another
    /// media type, 413 past the size limit) saying what and where: invalid UTF-8, invalid JSON, a key given
    /// twice, an unpaired surrogate escape, nesting deeper than <see cref="MaxDepth"/>, an empty body.
    /// </summary>
    public static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        CheckContentType(context.Request);
        using var buffer = new MemoryStream();
        // Kestrel stops the copy at the body size limit with a 413.
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        return ParseObject(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>JSON is UTF-8 and nothing else: other media types (text/plain is what a cross-site form or fetch can send
    /// without a preflight) are refused before the body is read.</summary>
    private static void CheckContentType(HttpRequest request)
    {
        string? type = request.ContentType;
        const string fix = "send 'Content-Type: application/json' (curl: -H 'Content-Type: application/json')";
        if (string.IsNullOrWhiteSpace(type)) throw new ApiException(415, $"the request has no Content-Type: {fix}", code: "unsupported_media_type");
        if (!MediaTypeHeaderValue.TryParse(type, out var media) ||
            !media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            throw new ApiException(415, $"the request body must be application/json, found Content-Type '{Shorten(type)}': {fix}",
                code: "unsupported_media_type");
        var charset = HeaderUtilities.RemoveQuotes(media.Charset);
        if (charset.HasValue && !(charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)))
            throw new ApiException(415, $"the request body must be application/json in UTF-8, found charset '{Shorten(charset.ToString())}'",
                code: "unsupported_media_type");
    }

    /// <summary>Checks and parses a body; see <see cref="ReadObjectAsync"/>.</summary>
    internal static JsonObject ParseObject(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) body = body[3..];
        if (body.IndexOfAnyExcept((ReadOnlySpan<byte>)" \t\r\n"u8) < 0)
            throw new ApiException(400, "the request body is empty: expected a JSON object", code: "invalid_json");
        if (!Utf8.IsValid(body))
        {
            int at = FirstInvalidUtf8(body);
            throw new ApiException(400, $"request body: invalid UTF-8 at {Where(body, at)}: byte 0x{body[at]:X2}", code: "invalid_json");
        }
        CheckStructure(body);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth, AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            // CheckStructure has seen all it catches; this is a safety net.
            throw new ApiException(400, $"request body: not valid JSON: {Reason(ex)}", code: "invalid_json");
        }
        return node as JsonObject ?? throw new ApiException(400,
            $"the request body must be a JSON object, found {(node == null ? "null" : node.GetValueKind().ToString().ToLowerInvariant())}",
            code: "invalid_json");
    }

    /// <summary>
    /// One pass of the reader over the body: syntax and depth (the reader's own errors, with their line and
    /// byte), keys given twice in one object (the object model would take the last silently or fail later),
    /// and escaped strings that do not decode (an unpaired \ud800 passes the parser but not the decoder).
    /// </summary>
    private static void CheckStructure(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth });
        // One key set per open object, reused by depth: a body of a million small objects makes no million sets.
        var keys = new List<HashSet<string>>();
        int depth = -1;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        if (++depth == keys.Count) keys.Add(new HashSet<string>(StringComparer.Ordinal));
                        else keys[depth].Clear();
                        break;
                    case JsonTokenType.EndObject:
                        depth--;
                        break;
                    case JsonTokenType.PropertyName:
                        string key = Decode(ref reader, body, "key");
                        if (!keys[depth].Add(key))
                            throw new ApiException(400, $"request body: duplicate key '{Shorten(key)}' at {Where(body, (int)reader.TokenStartIndex)}",
                                code: "invalid_json");
                        break;
                    case JsonTokenType.String when reader.ValueIsEscaped:
                        Decode(ref reader, body, "string");
                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            long line = (ex.LineNumber ?? 0) + 1, position = (ex.BytePositionInLine ?? 0) + 1;
            throw new ApiException(400, $"request body: invalid JSON at line {line}, byte {position}: {Reason(ex)}", code: "invalid_json");
        }
    }

    private static string Decode(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, string what)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new ApiException(400,
                $"request body: the {what} at {Where(body, (int)reader.TokenStartIndex)} has an unpaired surrogate escape (half of a \\uD800-\\uDFFF pair without the other half)",
                code: "invalid_json");
        }
    }

    /// <summary>The reader's reason without the position it appends (the message gives its own).</summary>
    private static string Reason(JsonException ex)
    {
        string message = ex.Message;
        foreach (string tail in new[] { " Path: ", " LineNumber: " })
        {
            int at = message.IndexOf(tail, StringComparison.Ordinal);
            if (at >= 0) message = message[..at];
        }
        return message.TrimEnd();
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> body)
    {
        int at = 0;
        while (at < body.Length)
        {
            if (Rune.DecodeFromUtf8(body[at..], out _, out int consumed) != OperationStatus.Done) return at;
            at += consumed;
        }
        return body.Length;
    }

    /// <summary>"line L, byte B" (both from 1) of an offset into the body.</summary>
    private static string Where(ReadOnlySpan<byte> body, int offset)
    {
        var before = body[..Math.Min(offset, body.Length)];
        int line = before.Count((byte)'\n') + 1;
        int lineStart = before.LastIndexOf((byte)'\n') + 1;
        return $"line {line}, byte {offset - lineStart + 1}";
    }

    public static string Shorten(string value) => value.Length <= 100 ? value : value[..100] + "…";

    public static string? String(JsonObject o, string name)
    {
        var n = o[name];
        if (n == null) return null;
        if (n is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw WrongType(name, "a string", n);
    }

    public static bool? Bool(JsonObject o, string name)
    {
        var n = o[name];
        if (n == null) return null;
        if (n is JsonValue v && v.TryGetValue(out bool b)) return b;
        throw WrongType(name, "true or false", n);
    }

    public static double? Number(JsonObject o, string name)
    {
        var n = o[name];
        if (n == null) return null;
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) throw WrongType(name, "a number", n);
        double d = v.GetValue<double>();
        // 1e400 parses as infinity: refused here, so later checks only ever see finite numbers.
        if (!double.IsFinite(d)) throw new ApiException(400, $"'{name}' is too large a number, found {Shorten(v.ToJsonString())}", code: "invalid_value", param: name);
        return d;
    }

    /// <summary>A number narrowed to float (the sampler's type): a finite double past float's range would become infinity.</summary>
    public static float? Single(JsonObject o, string name)
    {
        double? d = Number(o, name);
        if (d == null) return null;
        if (Math.Abs(d.Value) > float.MaxValue) throw new ApiException(400, $"'{name}' is too large a number, found {d}", code: "invalid_value", param: name);
        return (float)d.Value;
    }

    public static int? Integer(JsonObject o, string name)
    {
        double? d = Number(o, name);
        if (d == null) return null;
        if (d != Math.Floor(d.Value) || d < int.MinValue || d > int.MaxValue)
            throw new ApiException(400, $"'{name}' must be a whole number in [{int.MinValue}, {int.MaxValue}], found {d}", code: "invalid_value", param: name);
        return (int)d.Value;
    }

    /// <summary>
    /// A seed: any whole number a 64-bit integer holds (OpenAI's seeds are int64). The sampler's random
    /// source takes 32 bits, so a larger one is folded into them; every seed still repeats its draws.
    /// </summary>
    public static int? Seed(JsonObject o, string name)
    {
        var n = o[name];
        if (n == null) return null;
        long seed;
        if (n is JsonValue v && v.TryGetValue(out long exact)) seed = exact;
        else
        {
            double d = Number(o, name)!.Value;
            if (d != Math.Floor(d) || d < long.MinValue || d >= 9.2233720368547758e18)
                throw new ApiException(400, $"'{name}' must be a whole number in the 64-bit range, found {d}", code: "invalid_value", param: name);
            seed = (long)d;
        }
        return seed is >= int.MinValue and <= int.MaxValue ? (int)seed : (int)(seed ^ (seed >> 32));
    }

    private static ApiException WrongType(string name, string expected, JsonNode found) =>
        new(400, $"'{name}' must be {expected}, found {Kind(found)}", code: "invalid_value", param: name);

    public static string Kind(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    /// <summary>A string or an array of strings (OpenAI's and Ollama's "stop").</summary>
    public static IReadOnlyList<string> Strings(JsonObject o, string name)
    {
        var n = o[name];
        if (n == null) return [];
        if (n is JsonValue v && v.TryGetValue(out string? s)) return [s];
        if (n is JsonArray a)
        {
            var list = new List<string>();
            foreach (var item in a)
            {
                if (item is JsonValue iv && iv.TryGetValue(out string? t)) list.Add(t);
                else throw new ApiException(400, $"'{name}' must be a string or an array of strings, found {Kind(item!)} in it", code: "invalid_value", param: name);
            }
            return list;
        }
        throw WrongType(name, "a string or an array of strings", n);
    }

    /// <summary>Message content: a string, or OpenAI's array of parts of which the text parts are kept.</summary>
    public static string? Content(JsonNode? n)
    {
        if (n == null) return null;
        if (n is JsonValue v && v.TryGetValue(out string? s)) return s;
        if (n is JsonArray parts)
        {
            var text = new System.Text.StringBuilder();
            foreach (var p in parts)
            {
                if (p is JsonObject po && String(po, "type") == "text") text.Append(String(po, "text"));
                else throw new ApiException(400, "only text content parts are supported", code: "invalid_value");
            }
            return text.ToString();
        }
        throw new ApiException(400, "message 'content' must be a string or an array of text parts", code: "invalid_value");
    }

    /// <summary>
    /// An error in the shape the caller's API uses: Ollama's endpoints (/api/*, in any case, as routing
    /// matches paths) answer {"error": "message"} as Ollama does; everything else gets OpenAI's error object.
    /// </summary>
    public static IResult Error(HttpContext context, int status, string message, string type = "invalid_request_error", string? code = null,
        string? param = null) =>
        IsOllama(context)
            ? Results.Json(new JsonObject { ["error"] = message }, Options, statusCode: status)
            : Results.Json(ErrorBody(message, type, code, param), Options, statusCode: status);

    public static bool IsOllama(HttpContext context) => context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    public static JsonObject ErrorBody(string message, string type, string? code, string? param = null) => new()
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
    };

    public static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
