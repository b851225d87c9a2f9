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
        foreach (string flag in new[] { "--host", "--port", "--parallel", "--ctx", "--api-key", "--log-prompts", "--queue" })
            Assert.Contains(flag, stdout);
        Assert.Contains("127.0.0.1", stdout);
        Assert.Contains("7860", stdout);
    }

    [Theory]
    [InlineData("--host", "example.com", "--host")]
    [InlineData("--parallel", "0", "--parallel")]
    [InlineData("--port", "70000", "--port")]
    public void BadSettingsAreOneLineErrors(string flag, string value, string named)
    {
        var (code, _, stderr) = CliRunner.Run("serve", Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"), flag, value);
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(named, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }
}
