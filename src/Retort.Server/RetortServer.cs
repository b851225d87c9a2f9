using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using Retort.Engine.Model;

namespace Retort.Server;

/// <summary>
/// The HTTP server: OpenAI- and Ollama-compatible APIs, health and metrics, and the chat page,
/// over one loaded model with <see cref="ServerOptions.Parallel"/> slots.
/// </summary>
public sealed class RetortServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerState _state;
    private readonly HostOriginPolicy _policy;

    /// <param name="log">Where request lines go (null: nowhere).</param>
    public RetortServer(LoadedModel model, ServerOptions options, TextWriter? log = null)
    {
        // The settings are checked before the slots are made (their scheduler thread would outlive a failed constructor).
        var address = ParseHost(options.Host);
        if (options.Port is < 0 or > 65535) throw new RetortException($"--port must be in 0..65535, found {options.Port}");
        _policy = new HostOriginPolicy(options, IPAddress.IsLoopback(address));
        new SamplingOptions { ReasoningBudget = options.ReasoningBudget, ReasoningNudge = options.ReasoningNudge ?? SamplingOptions.DefaultReasoningNudge }
            .Validate(setting => setting == nameof(SamplingOptions.ReasoningBudget) ? "--reasoning-budget" : "--reasoning-nudge");
        var plan = ContextPlan.For(model, options.ContextSize ?? 0, options.KvBudgetBytes);
        _state = new ServerState(new InferenceService(model, options.Parallel, plan, options.QueueLength), options, log);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // The server logs its own lines (without prompt text unless asked); the framework's would be noise.
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.Listen(address, options.Port);
        });
        _app = builder.Build();
        // Outside the guard: a response that ends without a body (routing's 405, for one) gets the error JSON too.
        _app.UseStatusCodePages(EmptyErrorBody);
        _app.Use(Guard);
        Map(_app);
    }

    /// <summary>The engine and settings behind the endpoints (tests look at the slots through it).</summary>
    internal ServerState State => _state;

    /// <summary>The address it listens on, with the real port once started (http://127.0.0.1:PORT).</summary>
    public Uri? BaseAddress { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        string first = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(first.EndsWith('/') ? first : first + "/");
        var plan = _state.Service.Plan;
        if (plan.Warning != null) _state.Log(plan.Warning);
        _state.Log(plan.Statement);
        _state.Log(plan.SharedStatement(_state.Options.Parallel));
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

    /// <summary>
    /// Counts the request, then checks where it comes from (Host, then Origin: see <see cref="HostOriginPolicy"/>),
    /// answers OPTIONS, and checks the API key (all but /health and the page's own files). Whatever an
    /// endpoint throws unexpectedly still ends as an error in the API's shape, never an empty 500.
    /// </summary>
    private async Task Guard(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        string path = request.Path.Value ?? "/";
        string endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "other";
        _state.Metrics.CountRequest(endpoint);
        if (_policy.RefuseHost(request) is var (hostStatus, hostProblem))
        {
            await Refuse(context, hostStatus, hostProblem, hostStatus == 400 ? "invalid_host" : "host_not_allowed");
            return;
        }
        if (_policy.RefuseOrigin(request) is { } originProblem)
        {
            await Refuse(context, 403, originProblem, "origin_not_allowed");
            return;
        }
        _policy.AddCorsHeaders(context);
        if (HttpMethods.IsOptions(request.Method))
        {
            // Preflights carry no credentials, so they are answered before the key is checked.
            _policy.AnswerOptions(context);
            return;
        }
        // The chat page holds no data and asks for the key itself, so a browser can open it.
        bool open = path.Equals("/health", StringComparison.OrdinalIgnoreCase) || path == "/" ||
                    path.StartsWith("/ui/", StringComparison.OrdinalIgnoreCase);
        if (_state.Options.ApiKey is { Length: > 0 } key && !open)
        {
            string auth = request.Headers.Authorization.ToString();
            if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.UTF8.GetBytes(auth), System.Text.Encoding.UTF8.GetBytes("Bearer " + key)))
            {
                await Json.Error(context, 401, "missing or wrong API key: send 'Authorization: Bearer KEY'", "invalid_request_error",
                    "invalid_api_key").ExecuteAsync(context);
                return;
            }
        }
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception ex)
        {
            _state.Log($"{request.Method} {path}: internal error: {ex.GetType().Name}: {ex.Message}");
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }
            context.Response.Clear();
            _policy.AddCorsHeaders(context);
            await Json.Error(context, 500, $"internal error ({ex.GetType().Name}); the server log has the details", "server_error",
                "internal_error").ExecuteAsync(context);
        }
    }

    private async Task Refuse(HttpContext context, int status, string problem, string code)
    {
        _state.Log($"{context.Request.Method} {context.Request.Path}: {status}: {problem}");
        await Json.Error(context, status, problem, "invalid_request_error", code).ExecuteAsync(context);
    }

    /// <summary>Gives a body to an error that has none (routing's 405, a 404 from a handler) in the API's shape.</summary>
    private static async Task EmptyErrorBody(Microsoft.AspNetCore.Diagnostics.StatusCodeContext status)
    {
        var context = status.HttpContext;
        int code = context.Response.StatusCode;
        string allow = context.Response.Headers.Allow.ToString();
        string message = code switch
        {
            404 => "no such endpoint",
            405 => $"{context.Request.Method} is not allowed on {context.Request.Path}" + (allow.Length > 0 ? $" (allowed: {allow})" : ""),
            _ => ReasonPhrases.GetReasonPhrase(code) is { Length: > 0 } reason ? reason.ToLowerInvariant() : $"error {code}",
        };
        string errorCode = code switch { 404 => "not_found", 405 => "method_not_allowed", _ => "error" };
        await Json.Error(context, code, message, code >= 500 ? "server_error" : "invalid_request_error", errorCode).ExecuteAsync(context);
    }

    private void Map(WebApplication app)
    {
        var state = _state;
        // HEAD wherever GET is: the same status and headers, no body (Kestrel drops it).
        string[] get = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/health", get, () => Results.Json(new { status = "ok" }, Json.Options));
        app.MapMethods("/metrics", get, () => Results.Text(state.Metrics.Render(state.Service.Pool), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapMethods("/", get, () => WebPage.Serve("index.html"));
        app.MapMethods("/v1/models", get, () => OpenAiEndpoints.Models(state));
        app.MapPost("/v1/chat/completions", Handle(OpenAiEndpoints.ChatCompletions));
        app.MapPost("/v1/completions", Handle(OpenAiEndpoints.Completions));
        app.MapMethods("/api/version", get, OllamaEndpoints.Version);
        app.MapMethods("/api/tags", get, () => OllamaEndpoints.Tags(state));
        app.MapPost("/api/show", Handle(OllamaEndpoints.Show));
        app.MapPost("/api/chat", Handle(OllamaEndpoints.Chat));
        app.MapPost("/api/generate", Handle(OllamaEndpoints.Generate));
        app.MapFallback(NoSuchEndpoint);
    }

    /// <summary>
    /// What no route took: 405 with Allow when the path exists for other methods (the fallback matches every
    /// method, so routing would otherwise call that a 404 too), else 404.
    /// </summary>
    private static IResult NoSuchEndpoint(HttpContext context, EndpointDataSource endpoints)
    {
        string path = context.Request.Path.Value ?? "/";
        var methods = endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.Contains('{') &&
                        string.Equals("/" + raw.TrimStart('/'), path.Length > 1 ? path.TrimEnd('/') : path, StringComparison.OrdinalIgnoreCase))
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            .Distinct().ToList();
        if (methods.Count == 0) return Json.Error(context, 404, "no such endpoint", "invalid_request_error", "not_found");
        string allow = string.Join(", ", methods);
        context.Response.Headers.Allow = allow;
        return Json.Error(context, 405, $"{context.Request.Method} is not allowed on {path} (allowed: {allow})", "invalid_request_error",
            "method_not_allowed");
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
            error = Json.Error(context, ex.Status, ex.Message, ex.Type, ex.Code, ex.Param);
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
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug, not the client's mistake: still an answer in the API's shape, and a line in the log.
            _state.Log($"{context.Request.Path}: internal error: {ex.GetType().Name}: {ex.Message}");
            error = Json.Error(context, 500, $"internal error ({ex.GetType().Name}); the server log has the details", "server_error", "internal_error");
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
