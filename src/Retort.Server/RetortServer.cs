using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Retort.Engine;
using Retort.Engine.Loading;

namespace Retort.Server;

/// <summary>
/// The HTTP server: OpenAI- and Ollama-compatible APIs, health and metrics, and the chat page,
/// over one loaded model with <see cref="ServerOptions.Parallel"/> slots.
/// </summary>
public sealed class RetortServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerState _state;

    /// <param name="log">Where request lines go (null: nowhere).</param>
    public RetortServer(LoadedModel model, ServerOptions options, TextWriter? log = null)
    {
        int context = options.ContextSize ?? Math.Min(model.Config.ContextLength, 4096);
        _state = new ServerState(new InferenceService(model, options.Parallel, context, options.QueueLength), options, log);
        var address = ParseHost(options.Host);
        if (options.Port is < 0 or > 65535) throw new RetortException($"--port must be in 0..65535, found {options.Port}");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // The server logs its own lines (without prompt text unless asked); the framework's would be noise.
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.Listen(address, options.Port);
        });
        _app = builder.Build();
        _app.Use(Guard);
        Map(_app);
    }

    /// <summary>The address it listens on, with the real port once started (http://127.0.0.1:PORT).</summary>
    public Uri? BaseAddress { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        string first = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(first.EndsWith('/') ? first : first + "/");
        _state.Log($"listening on {BaseAddress} ({_state.Service.ModelId}, {_state.Options.Parallel} slot(s), context {_state.Service.ContextSize})");
    }

    /// <summary>Ends open generations (their streams finish at once), stops listening, and waits for the slots to be free.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        // Kestrel would wait for open streams to finish on their own; long answers are cut instead.
        await _state.Service.ShutdownAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        await _state.Service.ShutdownAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static IPAddress ParseHost(string host)
    {
        if (host == "localhost") return IPAddress.Loopback;
        if (IPAddress.TryParse(host, out var ip)) return ip;
        throw new RetortException($"--host must be an IP address (127.0.0.1, 0.0.0.0, ::1) or localhost, found '{host}'");
    }

    /// <summary>Counts the request, then checks the API key (all but /health and the page's own files).</summary>
    private async Task Guard(HttpContext context, RequestDelegate next)
    {
        string path = context.Request.Path.Value ?? "/";
        string endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "other";
        _state.Metrics.CountRequest(endpoint);
        // The chat page holds no data and asks for the key itself, so a browser can open it.
        bool open = path == "/health" || path == "/" || path.StartsWith("/ui/", StringComparison.Ordinal);
        if (_state.Options.ApiKey is { Length: > 0 } key && !open)
        {
            string auth = context.Request.Headers.Authorization.ToString();
            if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.UTF8.GetBytes(auth), System.Text.Encoding.UTF8.GetBytes("Bearer " + key)))
            {
                await Json.Error(context, 401, "missing or wrong API key: send 'Authorization: Bearer KEY'", "invalid_request_error",
                    "invalid_api_key").ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    }

    private void Map(WebApplication app)
    {
        var state = _state;
        app.MapGet("/health", () => Results.Json(new { status = "ok" }, Json.Options));
        app.MapGet("/metrics", () => Results.Text(state.Metrics.Render(state.Service.Pool), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/", () => WebPage.Serve("index.html"));
        app.MapGet("/v1/models", () => OpenAiEndpoints.Models(state));
        app.MapPost("/v1/chat/completions", Handle(OpenAiEndpoints.ChatCompletions));
        app.MapPost("/v1/completions", Handle(OpenAiEndpoints.Completions));
        app.MapGet("/api/version", OllamaEndpoints.Version);
        app.MapGet("/api/tags", () => OllamaEndpoints.Tags(state));
        app.MapPost("/api/show", Handle(OllamaEndpoints.Show));
        app.MapPost("/api/chat", Handle(OllamaEndpoints.Chat));
        app.MapPost("/api/generate", Handle(OllamaEndpoints.Generate));
        app.MapFallback((HttpContext context) => Json.Error(context, 404, "no such endpoint", "invalid_request_error", "not_found"));
    }

    /// <summary>Turns the ways a request can fail into status codes with an error body in the API's own shape.</summary>
    private RequestDelegate Handle(Func<HttpContext, ServerState, Task> handler) => async context =>
    {
        IResult? error = null;
        try
        {
            await handler(context, _state);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; its generation has been cancelled and its slot freed.
            return;
        }
        catch (ApiException ex)
        {
            error = Json.Error(context, ex.Status, ex.Message, ex.Type, ex.Code);
        }
        catch (ServerBusyException ex)
        {
            _state.Metrics.CountRejected();
            context.Response.Headers.RetryAfter = _state.Options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            error = Json.Error(context, 429, ex.Message, "rate_limit_error", "server_busy");
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own limits, such as the body size (413).
            error = Json.Error(context, ex.StatusCode, ex.Message, "invalid_request_error", ex.StatusCode == 413 ? "request_too_large" : null);
        }
        catch (RetortException ex)
        {
            error = Json.Error(context, 400, ex.Message);
        }
        if (error == null) return;
        if (context.Response.HasStarted)
        {
            // Mid-stream there is no status left to set: cut the stream so the client sees it fail.
            context.Abort();
            return;
        }
        await error.ExecuteAsync(context);
    };
}
