namespace Retort.Cli.Tests;

/// <summary>Runs the retort command line in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Out, string Err) RunWithInput(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, new StringReader(stdin), output, error);
        return (code, output.ToString(), error.ToString());
    }

    public static (int ExitCode, string Out, string Err) Run(params string[] args) => RunWithInput("", args);
}
