using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Retort.Engine;
using Retort.Engine.IO;

namespace Retort.Distillation.Models;

/// <summary>
/// A model behind an OpenAI-compatible /v1/chat/completions endpoint (vLLM, SGLang, the DeepSeek API,
/// retort serve). Reasoning is read from reasoning_content (or reasoning), or else from &lt;think&gt; tags
/// in the content. Transient failures are retried as <see cref="RetryPolicy"/> says.
/// </summary>
public sealed class OpenAiChatModel : IChatModel, IDisposable
{
    private readonly HttpClient _http;
    private readonly RetryPolicy _retry;
    private readonly Uri _chatUrl;

    private OpenAiChatModel(HttpClient http, RetryPolicy retry, Uri chatUrl, string model)
    {
        _http = http;
        _retry = retry;
        _chatUrl = chatUrl;
        Name = model;
    }

    public string Name { get; }

    /// <summary>The chat completions address requests go to.</summary>
    public Uri Endpoint => _chatUrl;

    /// <summary>
    /// Connects to <paramref name="endpoint"/> (a server root, its /v1, or the full /v1/chat/completions
    /// address). Without <paramref name="model"/>, the first model listed by /v1/models is used.
    /// </summary>
    public static async Task<OpenAiChatModel> ConnectAsync(string endpoint, string? model, string? apiKey,
        RetryPolicy? retry = null, CancellationToken cancellationToken = default)
    {
        var (chatUrl, modelsUrl) = Addresses(endpoint);
        // Timeouts are per request and part of the retry policy, not the client's.
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(apiKey)) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        retry ??= new RetryPolicy();
        try
        {
            if (string.IsNullOrEmpty(model))
            {
                var list = await SendAsync(http, retry, () => new HttpRequestMessage(HttpMethod.Get, modelsUrl), modelsUrl, cancellationToken);
                model = (list["data"] as JsonArray)?.FirstOrDefault()?["id"]?.GetValue<string>()
                        ?? throw new RetortException($"{modelsUrl}: the server lists no model; name one with --teacher-model");
            }
            return new OpenAiChatModel(http, retry, chatUrl, model);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>True when a --teacher or MODEL argument names a server rather than a local model.</summary>
    public static bool IsEndpoint(string argument) =>
        argument.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || argument.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    internal static (Uri Chat, Uri Models) Addresses(string endpoint)
    {
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new RetortException($"not an http(s) address: {MessageText.Quote(endpoint)} (expected e.g. http://127.0.0.1:8000/v1)");
        string root = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (root.EndsWith("/chat/completions", StringComparison.Ordinal)) root = root[..^"/chat/completions".Length];
        if (!root.EndsWith("/v1", StringComparison.Ordinal)) root += "/v1";
        return (new Uri(root + "/chat/completions"), new Uri(root + "/models"));
    }

    public async Task<ChatReply> CompleteAsync(string prompt, ChatSampling sampling, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = Name,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
            ["temperature"] = sampling.Temperature,
            ["top_p"] = sampling.TopP,
            ["max_tokens"] = sampling.MaxTokens,
            ["stream"] = false,
        };
        if (sampling.Seed is int seed) body["seed"] = seed;
        string json = body.ToJsonString();
        var clock = Stopwatch.StartNew();
        var response = await SendAsync(_http, _retry,
            () => new HttpRequestMessage(HttpMethod.Post, _chatUrl) { Content = new StringContent(json, Encoding.UTF8, "application/json") },
            _chatUrl, cancellationToken);
        clock.Stop();
        return ParseReply(response, _chatUrl, clock.Elapsed);
    }

    internal static ChatReply ParseReply(JsonObject response, Uri where, TimeSpan elapsed)
    {
        var choice = (response["choices"] as JsonArray)?.FirstOrDefault() as JsonObject;
        if (choice?["message"] is not JsonObject message)
            throw new RetortException($"{where}: unexpected response, no choices[0].message in {MessageText.Quote(response.ToJsonString())}");
        string content = String(message["content"]) ?? "";
        string? reasoning = String(message["reasoning_content"]) ?? String(message["reasoning"]);
        string answer;
        if (string.IsNullOrEmpty(reasoning)) (reasoning, answer) = ThinkTags.Split(content);
        else answer = content.Trim();
        var usage = response["usage"] as JsonObject;
        return new ChatReply
        {
            Reasoning = reasoning.Trim(),
            Answer = answer,
            FinishReason = String(choice["finish_reason"]) ?? "unknown",
            PromptTokens = Int(usage?["prompt_tokens"]),
            CompletionTokens = Int(usage?["completion_tokens"]),
            Elapsed = elapsed,
        };
    }

    private static string? String(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static int? Int(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out int i) ? i : null;

    private static async Task<JsonObject> SendAsync(HttpClient http, RetryPolicy retry, Func<HttpRequestMessage> request, Uri where,
        CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            string failure;
            TimeSpan? retryAfter = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(retry.RequestTimeout);
                try
                {
                    using var message = request();
                    using var response = await http.SendAsync(message, timeout.Token);
                    string text = await response.Content.ReadAsStringAsync(timeout.Token);
                    int status = (int)response.StatusCode;
                    if (response.IsSuccessStatusCode) return ParseJson(text, where);
                    string detail = $"HTTP {status.ToString(CultureInfo.InvariantCulture)}{ErrorDetail(text)}";
                    if (status is 429 or 408 or >= 500)
                    {
                        failure = detail;
                        retryAfter = RetryAfter(response);
                    }
                    else if (status is 400 or 413 or 422)
                        throw new PromptRejectedException($"{where}: {detail}");
                    else
                        throw new RetortException($"{where}: {detail}" + (status is 401 or 403 ? " (check --api-key / --api-key-env)" : ""));
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = $"no response within {retry.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
                }
                catch (HttpRequestException ex)
                {
                    failure = ex.Message;
                }
            }
            if (attempt >= retry.MaxAttempts)
                throw new RetortException($"{where}: gave up after {attempt.ToString(CultureInfo.InvariantCulture)} tries (last: {MessageText.OneLine(failure)})");
            await retry.Delay(retry.DelayAfter(attempt, retryAfter), cancellationToken);
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is TimeSpan delta) return delta;
        if (header?.Date is DateTimeOffset date) return date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }

    private static string ErrorDetail(string body)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject o && (o["error"]?["message"] ?? o["error"] ?? o["message"]) is JsonValue v
                && v.TryGetValue(out string? m))
                return ": " + MessageText.OneLine(m.Length > 300 ? m[..300] + "…" : m);
        }
        catch (JsonException)
        {
        }
        return "";
    }

    private static JsonObject ParseJson(string text, Uri where)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new RetortException($"{where}: expected a JSON object in the response");
        }
        catch (JsonException ex)
        {
            throw new RetortException($"{where}: the response is not JSON ({ex.Message})");
        }
    }

    public void Dispose() => _http.Dispose();
}
