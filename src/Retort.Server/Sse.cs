using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Retort.Server;

/// <summary>Server-sent events and newline-delimited JSON, flushed per message so clients see tokens live.</summary>
internal static class Sse
{
    public static void Begin(HttpResponse response, string contentType)
    {
        response.StatusCode = 200;
        response.ContentType = contentType;
        response.Headers.CacheControl = "no-cache";
        // Proxies such as nginx would otherwise buffer the stream.
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public static async Task EventAsync(HttpResponse response, JsonNode data, CancellationToken ct) =>
        await RawAsync(response, "data: " + data.ToJsonString(Json.Options) + "\n\n", ct).ConfigureAwait(false);

    public static async Task DoneAsync(HttpResponse response, CancellationToken ct) =>
        await RawAsync(response, "data: [DONE]\n\n", ct).ConfigureAwait(false);

    public static async Task LineAsync(HttpResponse response, JsonNode data, CancellationToken ct) =>
        await RawAsync(response, data.ToJsonString(Json.Options) + "\n", ct).ConfigureAwait(false);

    private static async Task RawAsync(HttpResponse response, string text, CancellationToken ct)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct).ConfigureAwait(false);
        await response.Body.FlushAsync(ct).ConfigureAwait(false);
    }
}
