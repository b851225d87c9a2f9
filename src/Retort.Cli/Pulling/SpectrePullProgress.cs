using System.Collections.Concurrent;
using Retort.Hub.Download;
using Retort.Hub.Hub;
using Spectre.Console;

namespace Retort.Cli.Pulling;

/// <summary>Pull progress as one Spectre.Console bar per file, for a terminal.</summary>
internal sealed class SpectrePullProgress(ProgressContext context) : IPullProgress
{
    private readonly ConcurrentDictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);

    public void Planned(string source, string commit, IReadOnlyList<HubFile> files)
    {
        foreach (var file in files)
            _tasks[file.Path] = context.AddTask(Markup.Escape(file.Path), autoStart: true, maxValue: Math.Max(1, file.Size));
    }

    public void Transferred(HubFile file, long bytes)
    {
        if (_tasks.TryGetValue(file.Path, out var task)) task.Value = bytes;
    }

    public void Waiting(string name) => context.AddTask(Markup.Escape($"waiting: another pull of {name} is running"), autoStart: false);

    public void Verified(HubFile file)
    {
        if (!_tasks.TryGetValue(file.Path, out var task)) return;
        task.Value = task.MaxValue;
        task.StopTask();
    }
}
