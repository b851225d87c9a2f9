using System.CommandLine;

namespace Retort.Cli.Commands;

/// <summary><c>retort distill …</c>: the group of distillation commands (each subcommand lives in its own file).</summary>
internal static class DistillCommand
{
    public static Command Create(CliIo io) => new("distill", "Make students: train them from traces or a teacher")
    {
        DistillTrainCommand.Create(io),
    };
}
