using Retort.Engine.Formats.Gguf;
using Retort.Engine.Tensors;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

/// <summary>User mistakes end in one clear line on stderr and a non-zero exit, never a stack trace.</summary>
public sealed class ErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("retort-cli-errors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void AssertOneLineError(int code, string stderr, string expectedFragment)
    {
        Assert.NotEqual(0, code);
        string[] lines = stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expectedFragment, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void MissingModelPath()
    {
        var (code, _, err) = CliRunner.Run("show", Path.Combine(_dir, "nope.gguf"));
        AssertOneLineError(code, err, "model not found");
    }

    [Fact]
    public void AnUnknownCacheType()
    {
        var (code, _, err) = CliRunner.Run("run", Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"), "-p", "hi", "--cache-type", "q3_k");
        AssertOneLineError(code, err, "--cache-type must be one of f32, f16, bf16, q8_0, q4_0, found 'q3_k'");
        (code, _, err) = CliRunner.Run("run", Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"), "-p", "hi", "--cache-type-v", "f8");
        AssertOneLineError(code, err, "--cache-type-v must be one of f32, f16, bf16, q8_0, q4_0, found 'f8'");
        (code, _, err) = CliRunner.Run("run", Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"), "-p", "hi", "-ctk", "q4_0");
        AssertOneLineError(code, err, "--cache-type-k q4_0 needs a head dimension that is a multiple of 32; this model's is 16");
    }

    [Fact]
    public void AFileThatIsNotGguf()
    {
        string path = Path.Combine(_dir, "notes.gguf");
        File.WriteAllText(path, "these are not the weights you are looking for");
        var (code, _, err) = CliRunner.Run("run", path, "-p", "hi");
        AssertOneLineError(code, err, "GGUF");
    }

    [Fact]
    public void ATruncatedGguf()
    {
        byte[] bytes = File.ReadAllBytes(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));
        string path = Path.Combine(_dir, "cut.gguf");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var (code, _, err) = CliRunner.Run("tokenize", path, "hi");
        AssertOneLineError(code, err, "cut.gguf");
    }

    [Fact]
    public void AFolderWithoutConfig()
    {
        var (code, _, err) = CliRunner.Run("show", _dir);
        AssertOneLineError(code, err, "config.json");
    }

    [Fact]
    public void AFolderWithoutTokenizer()
    {
        foreach (string f in new[] { "config.json", "model.safetensors" })
            File.Copy(Fixtures.Path("qwen2-micro", "hf", f), Path.Combine(_dir, f));
        var (code, _, err) = CliRunner.Run("run", _dir, "-p", "hi");
        AssertOneLineError(code, err, "tokenizer");
    }

    [Fact]
    public void AnUnsupportedArchitecture()
    {
        foreach (string f in Directory.GetFiles(Fixtures.Path("qwen2-micro", "hf")))
            File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
        string config = Path.Combine(_dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"qwen2\"", "\"mamba\""));
        var (code, _, err) = CliRunner.Run("show", _dir);
        AssertOneLineError(code, err, "mamba");
    }

    /// <summary>Copies the micro f32 GGUF with some metadata values or tensor types changed.</summary>
    private string RewriteGguf(string name, Func<string, GgufValue, GgufValue> metadata, Func<TensorData, GgmlType> type)
    {
        string path = Path.Combine(_dir, name);
        using var gguf = GgufFile.Open(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));
        var writer = new GgufWriter();
        foreach (string key in gguf.MetadataKeys) writer.SetMetadata(key, metadata(key, gguf.Metadata[key]));
        foreach (var t in gguf.TensorList) writer.AddTensor(t.Name, type(t), t.Shape, t.AllBytes());
        writer.Write(path);
        return path;
    }

    [Fact]
    public void AGgufOfAnUnsupportedArchitecture()
    {
        string path = RewriteGguf("mamba.gguf", (k, v) => k == "general.architecture" ? GgufValue.Of("mamba") : v, t => t.Type);
        var (code, _, err) = CliRunner.Run("run", path, "-p", "hi");
        AssertOneLineError(code, err, "architecture 'mamba' is not supported");
    }

    [Fact]
    public void AWeightOfATypeRetortCannotCompute()
    {
        // I32 has the same size as F32, so the file stays valid: only the model loader can object.
        string path = RewriteGguf("i32.gguf", (_, v) => v, t => t.Name == "blk.0.ffn_up.weight" ? GgmlType.I32 : t.Type);
        var (code, _, err) = CliRunner.Run("show", path);
        AssertOneLineError(code, err, "blk.0.ffn_up.weight");
        Assert.Contains("I32", err);
    }

    [Theory]
    [InlineData("--top-p", "0", "--top-p must be in (0, 1], found 0")]
    [InlineData("--temp", "1000", "--temp must be in [0, 5] (0 is greedy), found 1000")]
    [InlineData("--temp", "NaN", "--temp must be in [0, 5]")]
    [InlineData("--temperature", "-1", "--temp must be in [0, 5]")]
    [InlineData("--repeat-penalty", "0", "--repeat-penalty must be in [0.1, 10]")]
    [InlineData("--min-p", "2", "--min-p must be in [0, 1]")]
    [InlineData("--presence-penalty", "Infinity", "--presence-penalty must be in [-2, 2]")]
    [InlineData("--top-k", "-3", "--top-k must be ≥ 0")]
    [InlineData("--max-tokens", "0", "--max-tokens must be at least 1")]
    public void AnOutOfRangeSamplingSetting(string flag, string value, string expected)
    {
        var (code, _, err) = CliRunner.Run("run", Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"), "-p", "hi", flag, value);
        AssertOneLineError(code, err, expected);
    }

    [Fact]
    public void APromptLongerThanTheContext()
    {
        var (code, _, err) = CliRunner.Run("run", Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"),
            "-p", string.Join(' ', Enumerable.Repeat("word", 200)), "--ctx", "64");
        AssertOneLineError(code, err, "context");
    }
}
