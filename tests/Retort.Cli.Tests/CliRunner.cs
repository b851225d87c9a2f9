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

    /// <summary>Runs with exactly these environment variables (RETORT_HOME, HF_*), leaving the process environment alone.</summary>
    public static (int ExitCode, string Out, string Err) RunWithEnvironment(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, new StringReader(""), output, error, name => environment.GetValueOrDefault(name));
        return (code, output.ToString(), error.ToString());
    }
}
