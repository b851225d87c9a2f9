using System.CommandLine;
using Retort.Cli.Commands;
using Retort.Engine;

namespace Retort.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.In, Console.Out, Console.Error);

    /// <summary>Runs the command line with the given streams (tests call this in-process).</summary>
    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error) =>
        Run(args, input, output, error, Environment.GetEnvironmentVariable);

    /// <summary>As <see cref="Run(string[], TextReader, TextWriter, TextWriter)"/>, with the environment variables read through <paramref name="environment"/>.</summary>
    internal static int Run(string[] args, TextReader input, TextWriter output, TextWriter error, Func<string, string?> environment)
    {
        var io = new CliIo(input, output, error, environment);
        var root = new RootCommand("Retort: run and distil small reasoning language models on the CPU")
        {
            RunCommand.Create(io),
            TokenizeCommand.Create(io),
            ShowCommand.Create(io),
            SynthCommand.Create(io),
            BenchCommand.Create(io),
            ServeCommand.Create(io),
            QuantizeCommand.Create(io),
            ConvertCommand.Create(io),
            PullCommand.Create(io),
            StoreCommands.CreateList(io),
            StoreCommands.CreateRemove(io),
            DistillCommand.Create(io),
            EvalCommand.Create(io),
            LoraCommand.Create(io),
        };
        try
        {
            // Signals are the commands' own business (Interruption, the server, the chat): System.CommandLine's
            // handler would end the process 2 s after Ctrl-C whether or not the partial output was removed.
            var config = new InvocationConfiguration
            {
                Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
            };
            return root.Parse(args).Invoke(config);
        }
        catch (RetortException ex)
        {
            error.WriteLine($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            // The environment, not the model: a full disk, a permission, too little memory.
            error.WriteLine($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (Environment.GetEnvironmentVariable("RETORT_DEBUG") != "1")
        {
            error.WriteLine($"error: internal error ({ex.GetType().Name}: {ex.Message}); set RETORT_DEBUG=1 for details and please report it");
            return 2;
        }
    }
}
