using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Retort.Server;

/// <summary>Reading request bodies and their fields, with every mistake a 400 that names the field.</summary>
internal static class Json
{
    /// <summary>Chinese and other text stays readable in responses and logs instead of \uXXXX escapes.</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw new ApiException(400, $"the request body is not valid JSON: {ex.Message}", code: "invalid_json");
        }
        return node as JsonObject ?? throw new ApiException(400, "the request body must be a JSON object", code: "invalid_json");
    }

    public static string? String(JsonObject o, string name)
    {
        var n = o[name];
        if (n == null) return null;
        if (n is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw new ApiException(400, $"'{name}' must be a string", code: "invalid_value");
    }

    public static bool? Bool(JsonObject o, string name)
    {
        var n = o[name];
        if (n == null) return null;
        if (n is JsonValue v && v.TryGetValue(out bool b)) return b;
        throw new ApiException(400, $"'{name}' must be true or false", code: "invalid_value");
    }

    public static double? Number(JsonObject o, string name)
    {
        var n = o[name];
        if (n == null) return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number) return v.GetValue<double>();
        throw new ApiException(400, $"'{name}' must be a number", code: "invalid_value");
    }

    public static int? Integer(JsonObject o, string name)
    {
        double? d = Number(o, name);
        if (d == null) return null;
        if (d != Math.Floor(d.Value) || d < int.MinValue || d > int.MaxValue)
            throw new ApiException(400, $"'{name}' must be a whole number, found {d}", code: "invalid_value");
        return (int)d.Value;
    }

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
                else throw new ApiException(400, $"'{name}' must be a string or an array of strings", code: "invalid_value");
            }
            return list;
        }
        throw new ApiException(400, $"'{name}' must be a string or an array of strings", code: "invalid_value");
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
    /// An error in the shape the caller's API uses: Ollama's endpoints (/api/*) answer
    /// {"error": "message"} as Ollama does; everything else gets OpenAI's error object.
    /// </summary>
    public static IResult Error(HttpContext context, int status, string message, string type = "invalid_request_error", string? code = null) =>
        IsOllama(context)
            ? Results.Json(new JsonObject { ["error"] = message }, Options, statusCode: status)
            : Results.Json(ErrorBody(message, type, code), Options, statusCode: status);

    public static bool IsOllama(HttpContext context) => context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal);

    public static JsonObject ErrorBody(string message, string type, string? code) => new()
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["code"] = code },
    };

    public static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
