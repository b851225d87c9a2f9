using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Retort.Server.Tests.Support;

/// <summary>Small helpers for raw HTTP calls: JSON bodies, SSE and NDJSON streams.</summary>
internal static class Http
{
    public static StringContent JsonBody(object body) =>
        new(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public static async Task<(int Status, JsonObject Body)> PostAsync(HttpClient http, string path, object body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonBody(body) };
        if (key != null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    public static async Task<(int Status, JsonObject Body)> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>Reads a whole stream as raw text (to check the framing itself).</summary>
    public static async Task<(HttpResponseMessage Response, string Text)> PostStreamAsync(HttpClient http, string path, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonBody(body) };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The JSON payloads of "data: " events, and whether the stream ended with [DONE].</summary>
    public static (List<JsonObject> Events, bool Done) ParseSse(string text)
    {
        var events = new List<JsonObject>();
        bool done = false;
        // Events are separated by a blank line; each of ours is one data line.
        string[] blocks = text.Split("\n\n");
        Assert.Equal("", blocks[^1]);
        foreach (string block in blocks[..^1])
        {
            Assert.StartsWith("data: ", block);
            Assert.DoesNotContain('\n', block);
            Assert.False(done, "an event came after [DONE]");
            string payload = block["data: ".Length..];
            if (payload == "[DONE]") done = true;
            else events.Add(JsonNode.Parse(payload)!.AsObject());
        }
        return (events, done);
    }

    public static async Task<long> MetricAsync(HttpClient http, string name)
    {
        string text = await http.GetStringAsync("/metrics");
        foreach (string line in text.Split('\n'))
            if (line.StartsWith(name + " ", StringComparison.Ordinal)) return (long)double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        throw new Xunit.Sdk.XunitException($"metric {name} not found in:\n{text}");
    }
}
