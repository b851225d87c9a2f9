using System.CommandLine;
using Retort.Server;

namespace Retort.Cli.Commands;

/// <summary>The flags of <c>serve</c>, mapped onto <see cref="ServerOptions"/> (which owns the defaults and the checks).</summary>
internal sealed class ServerOptionSet
{
    private static readonly ServerOptions Defaults = new();

    private readonly Option<string> _host = new("--host")
    { Description = "address to listen on (127.0.0.1: this machine only)", DefaultValueFactory = _ => Defaults.Host };
    private readonly Option<int> _port = new("--port") { Description = "port to listen on (0: any free one)", DefaultValueFactory = _ => Defaults.Port };
    private readonly Option<int> _parallel = new("--parallel")
    { Description = "conversations generated at the same time; their KV caches share one pool of pages (--kv-budget)", DefaultValueFactory = _ => Defaults.Parallel };
    private readonly ContextOptions _context = new();
    private readonly Option<string?> _apiKey = new("--api-key") { Description = "require 'Authorization: Bearer KEY' on every endpoint but /health" };
    private readonly Option<bool> _logPrompts = new("--log-prompts") { Description = "log prompts and answers (off: only sizes and timings)" };
    private readonly Option<int> _queue = new("--queue")
    { Description = "requests that may wait for a free slot or KV pages before the server answers 429", DefaultValueFactory = _ => Defaults.QueueLength };
    private readonly Option<string[]> _allowedHost = new("--allowed-host")
    {
        Description = "also answer requests whose Host header is this name (repeatable; *.example.com for subdomains, * for any). " +
                      "On a loopback address only " + string.Join(", ", ServerOptions.LoopbackHosts) + " and *.localhost are answered " +
                      "(against DNS rebinding); on another address Host is checked only when this is given",
        AllowMultipleArgumentsPerToken = false,
    };
    private readonly Option<string[]> _corsOrigin = new("--cors-origin")
    {
        Description = "let web pages from this origin call the API, with CORS headers (repeatable, e.g. http://localhost:3000; * for any); " +
                      "POSTs from other pages are refused",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly ReasoningOptionSet _reasoning = new("; the default of requests that set no budget of their own");

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _host, _port, _parallel })
            command.Options.Add(o);
        _context.AddTo(command);
        foreach (var o in new Option[] { _apiKey, _logPrompts, _queue, _allowedHost, _corsOrigin })
            command.Options.Add(o);
        _reasoning.AddTo(command);
    }

    public ServerOptions Read(ParseResult r) => new()
    {
        Host = r.GetValue(_host)!,
        Port = r.GetValue(_port),
        Parallel = r.GetValue(_parallel),
        ContextSize = _context.Context(r),
        KvBudgetBytes = _context.Budget(r),
        ApiKey = r.GetValue(_apiKey),
        LogPrompts = r.GetValue(_logPrompts),
        QueueLength = r.GetValue(_queue),
        AllowedHosts = r.GetValue(_allowedHost) ?? [],
        CorsOrigins = r.GetValue(_corsOrigin) ?? [],
        ReasoningBudget = _reasoning.Budget(r),
        ReasoningNudge = _reasoning.Nudge(r),
    };
}
