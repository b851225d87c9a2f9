using Retort.Tests.Support;

namespace Retort.Cli.Tests;

/// <summary>The serve command's flags and its refusals (the server itself is tested in Retort.Server.Tests).</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public void HelpListsTheServerFlags()
    {
        var (code, stdout, _) = CliRunner.Run("serve", "--help");
        Assert.Equal(0, code);
        foreach (string flag in new[] { "--host", "--port", "--parallel", "--ctx", "--api-key", "--log-prompts", "--queue", "--allowed-host", "--cors-origin" })
            Assert.Contains(flag, stdout);
        Assert.Contains("127.0.0.1", stdout);
        Assert.Contains("7860", stdout);
    }

    [Theory]
    [InlineData("--host", "example.com", "--host")]
    [InlineData("--parallel", "0", "--parallel")]
    [InlineData("--port", "70000", "--port")]
    [InlineData("--allowed-host", "http://evil.example", "--allowed-host")]
    [InlineData("--allowed-host", "retort.lan:7860", "--allowed-host")]
    [InlineData("--cors-origin", "localhost:3000", "--cors-origin")]
    [InlineData("--cors-origin", "http://localhost:3000/app", "--cors-origin")]
    public void BadSettingsAreOneLineErrors(string flag, string value, string named)
    {
        var (code, _, stderr) = CliRunner.Run("serve", Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"), flag, value);
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(named, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void AllowedHostsAndCorsOriginsAreRepeatableAndReachTheServerOptions()
    {
        var flags = new Commands.ServerOptionSet();
        var command = new System.CommandLine.Command("serve");
        flags.AddTo(command);
        var options = flags.Read(command.Parse([
            "--allowed-host", "retort.lan", "--allowed-host", "*.example.com",
            "--cors-origin", "http://localhost:3000", "--cors-origin", "*", "--port", "0",
        ]));
        Assert.Equal(["retort.lan", "*.example.com"], options.AllowedHosts);
        Assert.Equal(["http://localhost:3000", "*"], options.CorsOrigins);
        Assert.Equal(0, options.Port);

        var defaults = flags.Read(command.Parse([]));
        Assert.Empty(defaults.AllowedHosts);
        Assert.Empty(defaults.CorsOrigins);
        var library = new Retort.Server.ServerOptions();
        Assert.Equal((library.Host, library.Port, library.QueueLength), (defaults.Host, defaults.Port, defaults.QueueLength));
    }
}
