using Retort.Tests.Support;
using Retort.Hub.Store;

namespace Retort.Cli.Tests;

/// <summary>list/rm and store names as MODEL; RETORT_HOME is process-wide, so these run in one collection.</summary>
[Collection("store")]
public sealed class StoreCommandTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "retort-home-" + Guid.NewGuid().ToString("N"));
    private readonly string? _previous = Environment.GetEnvironmentVariable("RETORT_HOME");

    public StoreCommandTests() => Environment.SetEnvironmentVariable("RETORT_HOME", _home);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("RETORT_HOME", _previous);
        if (Directory.Exists(_home)) Directory.Delete(_home, true);
    }

    [Fact]
    public void StoreNameWorksForShowListAndRm()
    {
        var folder = Path.Combine(_home, "models", "micro");
        Directory.CreateDirectory(folder);
        File.Copy(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-q8_0.gguf"), Path.Combine(folder, "model.gguf"));
        new LocalStore(_home).Put(new StoreEntry("micro", "local/micro", "models/micro", "models/micro/model.gguf",
            new FileInfo(Path.Combine(folder, "model.gguf")).Length, 1, DateTimeOffset.UtcNow));

        var (code, output, err) = CliRunner.Run("show", "micro");
        Assert.True(code == 0, err);
        Assert.Contains("qwen2", output);

        (code, output, _) = CliRunner.Run("list");
        Assert.Equal(0, code);
        Assert.Contains("micro", output);

        (code, _, _) = CliRunner.Run("rm", "micro");
        Assert.Equal(0, code);
        Assert.False(Directory.Exists(folder));
        (code, _, err) = CliRunner.Run("rm", "micro");
        Assert.Equal(1, code);
        Assert.Contains("No model named 'micro'", err);
    }
}
