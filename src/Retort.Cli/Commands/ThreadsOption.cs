using System.CommandLine;
using Retort.Engine;

namespace Retort.Cli.Commands;

/// <summary>The -t/--threads option shared by run and bench.</summary>
internal static class ThreadsOption
{
    public static Option<int> Create() => new("--threads", "-t")
    {
        Description = "worker threads for the matrix products (0: every core)",
        DefaultValueFactory = _ => 0,
    };

    public static int Read(ParseResult result, Option<int> option)
    {
        int t = result.GetValue(option);
        if (t < 0) throw new RetortException($"--threads must be 0 (every core) or a positive count, found {t}");
        return t;
    }
}
