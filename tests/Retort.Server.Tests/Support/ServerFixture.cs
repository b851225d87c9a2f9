using Retort.Tests.Support;
using Retort.Engine.Loading;

namespace Retort.Server.Tests.Support;

/// <summary>
/// The tiny fixture model and a server over it on 127.0.0.1 with a free port, shared by the tests
/// of the "server" collection (run one class at a time: the machine has few cores).
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const int Context = 512;

    public LoadedModel Model { get; private set; } = null!;

    public RetortServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public static string ModelPath => Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf");

    public const string ModelId = "qwen2-tiny-q8_0";

    public async Task InitializeAsync()
    {
        Model = LoadedModel.Load(ModelPath);
        Server = await StartAsync(new ServerOptions { Port = 0, Parallel = 8, QueueLength = 8, ContextSize = Context });
        Http = new HttpClient { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
    }

    /// <summary>Another server over the same model (its slots share the model's forward lock).</summary>
    public async Task<RetortServer> StartAsync(ServerOptions options)
    {
        var server = new RetortServer(Model, options with { Port = 0, Host = "127.0.0.1" });
        await server.StartAsync();
        return server;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Model.Dispose();
    }
}
