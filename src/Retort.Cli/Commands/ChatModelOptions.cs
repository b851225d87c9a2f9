using System.CommandLine;
using Retort.Distillation.Models;
using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Hub.Store;

namespace Retort.Cli.Commands;

/// <summary>
/// The options shared by the commands that talk to a model which may be remote (an http(s) address of an
/// OpenAI-compatible server) or local (a .gguf, a Hugging Face folder or a store name): key, model id,
/// context and threads; and the sampling flags sent with each request.
/// </summary>
internal sealed class ChatModelOptions
{
    private readonly Option<string?> _apiKey = new("--api-key") { Description = "bearer key for a remote server" };
    private readonly Option<string?> _apiKeyEnv = new("--api-key-env") { Description = "read the key from this environment variable (keeps it out of the shell history)" };
    private readonly Option<int> _ctx = new("--ctx")
    {
        Description = "local models: context per sequence (0: the model's trained context, capped so its KV cache fits half the memory left after the weights)",
        DefaultValueFactory = _ => 0,
    };
    private readonly Option<int> _threads = ThreadsOption.Create();
    private readonly Option<int> _retries = new("--retries") { Description = "remote models: tries per request on 429, 5xx and timeouts", DefaultValueFactory = _ => 8 };
    private readonly Option<float> _temperature = new("--temperature", "--temp") { Description = "sampling temperature (0: greedy)", DefaultValueFactory = _ => 0.6f };
    private readonly Option<float> _topP = new("--top-p") { Description = "nucleus sampling threshold", DefaultValueFactory = _ => 0.95f };
    private readonly Option<int> _maxTokens = new("--max-tokens", "-n") { Description = "most tokens per answer, reasoning included", DefaultValueFactory = _ => 4096 };
    private readonly Option<int?> _seed;

    public ChatModelOptions(int? defaultSeed = null)
    {
        _seed = new Option<int?>("--seed") { Description = "sampling seed, offset by the sample index", DefaultValueFactory = _ => defaultSeed };
    }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _temperature, _topP, _maxTokens, _seed, _apiKey, _apiKeyEnv, _retries, _ctx, _threads })
            command.Options.Add(o);
    }

    public ChatSampling Sampling(ParseResult r)
    {
        var s = new ChatSampling
        {
            Temperature = r.GetValue(_temperature), TopP = r.GetValue(_topP), MaxTokens = r.GetValue(_maxTokens), Seed = r.GetValue(_seed),
        };
        if (!float.IsFinite(s.Temperature) || s.Temperature < 0) throw new RetortException($"--temperature must be ≥ 0, found {s.Temperature}");
        if (s.TopP is <= 0 or > 1) throw new RetortException($"--top-p must be in (0, 1], found {s.TopP}");
        if (s.MaxTokens < 1) throw new RetortException($"--max-tokens must be at least 1, found {s.MaxTokens}");
        return s;
    }

    /// <summary>Opens the model; dispose the returned handle when done (it unmaps a local model, closes a client).</summary>
    public async Task<(IChatModel Model, IDisposable Handle)> OpenAsync(ParseResult r, string argument, string? modelId, int parallel,
        CancellationToken cancellationToken)
    {
        if (OpenAiChatModel.IsEndpoint(argument))
        {
            string? key = r.GetValue(_apiKey);
            if (r.GetValue(_apiKeyEnv) is { Length: > 0 } name)
                key = Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
                    ? value
                    : throw new RetortException($"--api-key-env {name}: the environment variable is not set");
            int retries = r.GetValue(_retries);
            if (retries < 1) throw new RetortException($"--retries must be at least 1, found {retries}");
            var remote = await OpenAiChatModel.ConnectAsync(argument, modelId, key, new RetryPolicy { MaxAttempts = retries }, cancellationToken);
            return (remote, remote);
        }
        int threads = ThreadsOption.Read(r, _threads);
        var loaded = LoadedModel.Load(ModelResolver.Resolve(argument, LocalStore.Default()), threads: threads);
        try
        {
            return (new LocalChatModel(loaded, r.GetValue(_ctx), parallel), loaded);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }
}
