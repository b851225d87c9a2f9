using System.CommandLine;
using Retort.Cli.Pulling;
using Retort.Hub.Hub;
using Retort.Hub.Pull;
using Retort.Hub.Store;
using Spectre.Console;

namespace Retort.Cli.Commands;

/// <summary><c>retort pull NAME</c>: a model from the Hugging Face hub into the local store.</summary>
internal static class PullCommand
{
    public static Command Create(CliIo io)
    {
        var name = new Argument<string>("NAME")
        {
            Description = "a catalog alias (deepseek-r1:1.5b), a Hugging Face repo (owner/name) or a GGUF repo with a quant tag (owner/name-GGUF:Q4_K_M)",
        };
        var command = new Command("pull", "Download a model from the Hugging Face hub into the local store (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE)");
        command.Arguments.Add(name);
        command.SetAction(async (result, cancellationToken) =>
        {
            using var interruption = new Interruption(io, cancellationToken);
            // What a download has received stays in the store's staging area, which the next pull resumes from.
            string remains = $"what was downloaded is kept in {LocalStore.FromEnvironment(io.GetEnvironmentVariable).StagingDir}: pull again to resume";
            return await interruption.RunAsync(io, "pull", async cancel =>
            {
                var pulled = await PullAsync(io, result.GetValue(name)!, offline: false, toError: false, cancel, checkForUpdate: true);
                var e = pulled.Entry;
                string revision = e.Commit is { } c ? $" (revision {c[..Math.Min(12, c.Length)]})" : "";
                io.Out.WriteLine(pulled.AlreadyPresent
                    ? $"{e.Name} is up to date{revision} ({e.Repo}), at {pulled.ModelPath}"
                    : $"{(pulled.Updated ? "updated" : "pulled")} {e.Name} ({e.Repo}){revision}: {e.Files} files, {ByteSize.Format(e.SizeBytes)}, at {pulled.ModelPath}");
                return 0;
            }, remains);
        });
        return command;
    }

    /// <summary>Pulls with progress bars on a terminal and plain lines otherwise; <paramref name="toError"/> keeps stdout for the command's own output.</summary>
    public static async Task<PullResult> PullAsync(CliIo io, string name, bool offline, bool toError, CancellationToken cancellationToken, bool checkForUpdate = false)
    {
        var settings = HubSettings.FromEnvironment(io.GetEnvironmentVariable).WithOffline(offline);
        var puller = new ModelPuller(LocalStore.FromEnvironment(io.GetEnvironmentVariable), settings);
        var writer = toError ? io.Error : io.Out;
        if (!(toError ? io.IsErrorConsole : io.IsConsole))
            return await puller.PullAsync(name, new PlainPullProgress(writer), cancellationToken, checkForUpdate);

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        return await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(ctx => puller.PullAsync(name, new SpectrePullProgress(ctx), cancellationToken, checkForUpdate));
    }
}
