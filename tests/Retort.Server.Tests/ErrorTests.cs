using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Retort.Tests.Support;

namespace Retort.Server.Tests;

/// <summary>
/// 400, 401, 404 and 429: OpenAI's error object on the OpenAI endpoints, Ollama's {"error": "message"}
/// on /api/*.
/// </summary>
[Collection("server")]
public sealed class ErrorTests(ServerFixture fixture)
{
    private static void AssertError(JsonObject body, string? code)
    {
        var error = body["error"]!.AsObject();
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(error["type"]!.GetValue<string>()));
        Assert.True(error.ContainsKey("code"));
        if (code != null) Assert.Equal(code, error["code"]!.GetValue<string>());
    }

    /// <summary>Ollama's shape: one field, the message as a plain string.</summary>
    private static void AssertOllamaError(JsonObject body, string expectedInMessage)
    {
        var (name, value) = Assert.Single(body);
        Assert.Equal("error", name);
        Assert.Equal(JsonValueKind.String, value!.GetValueKind());
        Assert.Contains(expectedInMessage, value.GetValue<string>());
    }

    private static void AssertErrorFor(string path, JsonObject body, string code, string expectedInMessage)
    {
        if (path.StartsWith("/api/", StringComparison.Ordinal)) AssertOllamaError(body, expectedInMessage);
        else AssertError(body, code);
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/completions")]
    [InlineData("/api/chat")]
    [InlineData("/api/generate")]
    public async Task Malformed_json_is_400(string path)
    {
        var (status, body) = await Http.PostAsync(fixture.Http, path, "{\"messages\": [");
        Assert.Equal(400, status);
        AssertErrorFor(path, body, "invalid_json", "invalid JSON");
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/api/chat")]
    public async Task Unknown_model_is_404(string path)
    {
        var (status, body) = await Http.PostAsync(fixture.Http, path,
            new { model = "gpt-9", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(404, status);
        AssertErrorFor(path, body, "model_not_found", "'gpt-9'");
    }

    [Fact]
    public async Task Show_of_an_unknown_model_is_404()
    {
        var (status, body) = await Http.PostAsync(fixture.Http, "/api/show", new { model = "llama9:70b" });
        Assert.Equal(404, status);
        AssertOllamaError(body, "'llama9:70b'");
    }

    [Fact]
    public async Task Ollama_bad_values_and_unknown_endpoints_use_its_error_shape()
    {
        var (status, body) = await Http.PostAsync(fixture.Http, "/api/chat",
            new { messages = new[] { new { role = "user", content = "hi" } }, options = new { temperature = "hot" } });
        Assert.Equal(400, status);
        AssertOllamaError(body, "'temperature'");
        var (status2, body2) = await Http.PostAsync(fixture.Http, "/api/generate", new { prompt = "hi", options = new { num_predict = 1_000_000 } });
        Assert.Equal(400, status2);
        AssertOllamaError(body2, "num_predict");
        var (status3, body3) = await Http.GetAsync(fixture.Http, "/api/pull-everything");
        Assert.Equal(404, status3);
        AssertOllamaError(body3, "no such endpoint");
        var (status4, body4) = await Http.GetAsync(fixture.Http, "/v1/nothing-here");
        Assert.Equal(404, status4);
        AssertError(body4, "not_found");
    }

    [Fact]
    public async Task Max_tokens_above_the_context_is_400()
    {
        var (status, body) = await Http.PostAsync(fixture.Http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = ServerFixture.Context + 1 });
        Assert.Equal(400, status);
        AssertError(body, "invalid_value");
        Assert.Contains("max_tokens", body["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bad_values_are_400()
    {
        foreach (var bad in new object[]
                 {
                     new { messages = new[] { new { role = "user", content = "hi" } }, temperature = -1 },
                     new { messages = new[] { new { role = "user", content = "hi" } }, top_p = "high" },
                     new { messages = new[] { new { role = "wizard", content = "hi" } } },
                     new { messages = Array.Empty<object>() },
                     new { messages = new[] { new { role = "user", content = "hi" } }, stop = 5 },
                 })
        {
            var (status, body) = await Http.PostAsync(fixture.Http, "/v1/chat/completions", bad);
            Assert.Equal(400, status);
            AssertError(body, null);
        }
    }

    [Fact]
    public async Task Too_many_messages_and_too_large_bodies_are_refused()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { MaxMessages = 3, MaxRequestBodyBytes = 10_000, ContextSize = 256 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var four = Enumerable.Range(0, 4).Select(i => new { role = i % 2 == 0 ? "user" : "assistant", content = "x" }).ToArray();
        var (status, body) = await Http.PostAsync(http, "/v1/chat/completions", new { messages = four });
        Assert.Equal(400, status);
        AssertError(body, "invalid_value");
        var (status2, body2) = await Http.PostAsync(http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = new string('x', 20_000) } } });
        Assert.Equal(413, status2);
        AssertError(body2, "request_too_large");
    }

    [Fact]
    public async Task Api_key_is_required_everywhere_but_health()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { ApiKey = "sesame", ContextSize = 256 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        foreach (string path in new[] { "/v1/models", "/api/tags", "/api/version", "/metrics" })
        {
            using var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            AssertErrorFor(path, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject(), "invalid_api_key", "API key");
        }
        var (status, _) = await Http.PostAsync(http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2 }, key: "wrong");
        Assert.Equal(401, status);
        var (ok, _) = await Http.PostAsync(http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2 }, key: "sesame");
        Assert.Equal(200, ok);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sesame");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task A_full_queue_is_429_with_retry_after()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 1, QueueLength = 0, ContextSize = 4096 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // Hold the only slot with a long stream, read until it has produced something.
        using var longRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Http.JsonBody(new { messages = new[] { new { role = "user", content = "hi" } }, stream = true, max_tokens = 4000, ignore_eos = true }),
        };
        using var longResponse = await http.SendAsync(longRequest, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        var reader = new StreamReader(await longResponse.Content.ReadAsStreamAsync(cancel.Token));
        Assert.StartsWith("data: ", await reader.ReadLineAsync(cancel.Token));

        using var busy = await http.PostAsync("/v1/chat/completions",
            Http.JsonBody(new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2 }));
        Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
        Assert.NotNull(busy.Headers.RetryAfter);
        AssertError(JsonNode.Parse(await busy.Content.ReadAsStringAsync())!.AsObject(), "server_busy");

        // Dropping the stream frees the slot.
        longResponse.Dispose();
        await Concurrency.WaitForIdleAsync(http);
        var (status, _) = await Http.PostAsync(http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2 });
        Assert.Equal(200, status);
    }
}
