using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Retort.Distillation.Tests.Support;

/// <summary>
/// An OpenAI-compatible teacher on 127.0.0.1 (free port) that answers from a table of prompt → (reasoning,
/// answer), after failing with the scripted statuses first. Even-numbered answers carry the reasoning in
/// reasoning_content, odd ones inside the content ending with &lt;/think&gt; (as R1 servers send it raw).
/// </summary>
internal sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Queue<(int Status, string? RetryAfter)> _failures;
    private readonly Dictionary<string, (string Reasoning, string Answer)> _answers;
    private int _answered;

    private FakeOpenAiServer(WebApplication app, Dictionary<string, (string, string)> answers, IEnumerable<(int, string?)> failures)
    {
        _app = app;
        _answers = answers;
        _failures = new Queue<(int, string?)>(failures);
    }

    public string Url { get; private set; } = "";

    /// <summary>Chat requests received, in order (failed ones included).</summary>
    public List<JsonObject> Requests { get; } = new();

    /// <summary>Prompts answered with this status whatever the script says.</summary>
    public Dictionary<string, int> AlwaysFail { get; } = new();

    public static async Task<FakeOpenAiServer> StartAsync(Dictionary<string, (string Reasoning, string Answer)> answers,
        params (int Status, string? RetryAfter)[] failures)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeOpenAiServer(app, answers, failures);
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = "fake-r1", @object = "model" } } }));
        app.MapPost("/v1/chat/completions", (Func<HttpContext, Task<IResult>>)server.ChatAsync);
        await app.StartAsync();
        server.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    private async Task<IResult> ChatAsync(HttpContext context)
    {
        var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())!.AsObject();
        string prompt = body["messages"]![0]!["content"]!.GetValue<string>();
        lock (Requests)
        {
            Requests.Add(body);
            if (AlwaysFail.TryGetValue(prompt, out int always))
                return Results.Json(new { error = new { message = "scripted failure", type = "invalid_request_error" } }, statusCode: always);
            if (_failures.TryDequeue(out var failure))
            {
                if (failure.RetryAfter != null) context.Response.Headers.RetryAfter = failure.RetryAfter;
                return Results.Json(new { error = new { message = "try again later" } }, statusCode: failure.Status);
            }
        }
        var (reasoning, answer) = _answers[prompt];
        bool inContent = Interlocked.Increment(ref _answered) % 2 == 0;
        var message = inContent
            ? new JsonObject { ["role"] = "assistant", ["content"] = $"{reasoning}\n</think>\n\n{answer}" }
            : new JsonObject { ["role"] = "assistant", ["content"] = answer, ["reasoning_content"] = reasoning };
        var response = new JsonObject
        {
            ["id"] = "chatcmpl-1",
            ["object"] = "chat.completion",
            ["model"] = "fake-r1",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = "stop" }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = prompt.Length, ["completion_tokens"] = reasoning.Length + answer.Length },
        };
        return Results.Text(response.ToJsonString(), "application/json");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
