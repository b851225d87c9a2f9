using System.CommandLine;
using System.Runtime.InteropServices;
using Retort.Server;

namespace Retort.Cli.Commands;

/// <summary><c>retort serve MODEL</c>: the OpenAI- and Ollama-compatible HTTP server with its chat page.</summary>
internal static class ServeCommand
{
    public static Command Create(CliIo io)
    {
        var model = new ModelArgument(io);
        var flags = new ServerOptionSet();
        var cacheType = new CacheTypeOption();
        var command = new Command("serve", "Serve a model over HTTP: OpenAI and Ollama APIs, metrics, and a chat page at /");
        flags.AddTo(command);
        model.AddTo(command, withTemplate: true);
        cacheType.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var kvType = cacheType.Read(result);
            using var loaded = model.Load(result);
            CacheTypeOption.Apply(loaded.Transformer, kvType);
            var options = flags.Read(result);
            // Ctrl-C and SIGTERM (a service manager) both end the server cleanly: open streams are
            // cancelled and their slots freed before the model is unmapped.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            await using var server = new RetortServer(loaded, options, io.Error);
            if (options.ApiKey is null && !IsLoopback(options.Host))
                io.Error.WriteLine($"warning: listening on {options.Host} without --api-key: anyone who can reach this machine can use the model");
            await server.StartAsync(stop.Token);
            io.Out.WriteLine($"Retort is serving {loaded.Path} at {server.BaseAddress} (Ctrl-C stops it)");
            io.Out.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C: shut down cleanly.
            }
            await server.StopAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }

    private static bool IsLoopback(string host) =>
        host == "localhost" || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
}
