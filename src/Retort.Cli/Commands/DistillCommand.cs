using System.CommandLine;

namespace Retort.Cli.Commands;

/// <summary><c>retort distill</c>: the parent of the steps that make a reasoning model (tasks, generate, clean, and any given).</summary>
internal static class DistillCommand
{
    public static Command Create(CliIo io, params Command[] extra)
    {
        var command = new Command("distill", "Make reasoning models: synthetic tasks, teacher traces, cleaning, training")
        {
            DistillTasksCommand.Create(io),
            DistillGenerateCommand.Create(io),
            DistillCleanCommand.Create(io),
        };
        foreach (var c in extra) command.Subcommands.Add(c);
        return command;
    }
}
