using System.CommandLine;

namespace Retort.Cli.Commands;

/// <summary><c>retort distill</c>: the parent of the steps that make a reasoning model (tasks, generate, clean, teacher-logits, train).</summary>
internal static class DistillCommand
{
    public static Command Create(CliIo io) => new("distill", "Make reasoning models: synthetic tasks, teacher traces, cleaning, training")
    {
        DistillTasksCommand.Create(io),
        DistillGenerateCommand.Create(io),
        DistillCleanCommand.Create(io),
        DistillTeacherLogitsCommand.Create(io),
        DistillTrainCommand.Create(io),
    };
}
