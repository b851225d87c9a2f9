using System.CommandLine;
using System.Globalization;
using Retort.Hub.Store;
using Spectre.Console;

namespace Retort.Cli.Commands;

/// <summary><c>retort list</c> and <c>retort rm NAME</c> over the local store (RETORT_HOME or ~/.retort).</summary>
internal static class StoreCommands
{
    public static Command CreateList(CliIo io)
    {
        var command = new Command("list", "List the models in the local store");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumns("name", "source", "size", "files", "pulled at");
            foreach (var e in LocalStore.FromEnvironment(io.GetEnvironmentVariable).List().OrderBy(e => e.Name, StringComparer.Ordinal))
                table.AddRow(Markup.Escape(e.Name), Markup.Escape(e.Repo), ByteSize.Format(e.SizeBytes), e.Files.ToString(CultureInfo.InvariantCulture),
                    e.PulledAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture));
            io.CreateConsole().Write(table);
            return 0;
        });
        return command;
    }

    public static Command CreateRemove(CliIo io)
    {
        var name = new Argument<string>("NAME") { Description = "a model name from `retort list`" };
        var command = new Command("rm", "Remove a model from the local store");
        command.Arguments.Add(name);
        command.SetAction(result =>
        {
            LocalStore.FromEnvironment(io.GetEnvironmentVariable).Remove(result.GetValue(name)!);
            io.Out.WriteLine($"removed {result.GetValue(name)}");
            return 0;
        });
        return command;
    }
}
