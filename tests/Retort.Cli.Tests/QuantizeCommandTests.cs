using Retort.Engine.Formats.Gguf;
using Retort.Engine.Loading;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

public sealed class QuantizeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("retort-quantize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Re-quantizing llama.cpp's f32 file must give the very bytes llama.cpp's converter wrote for the
    /// other types: same tensor types (norms and biases stay F32) and identical data.
    /// </summary>
    [Theory]
    [InlineData("qwen2-tiny", "q8_0")]
    [InlineData("qwen2-tiny", "f16")]
    [InlineData("qwen2-tiny", "bf16")]
    [InlineData("qwen2-micro", "q8_0")]
    public void MatchesLlamaCppsOwnConversionByteForByte(string model, string type)
    {
        string output = Path.Combine(_dir, $"{model}-{type}.gguf");
        var (code, _, err) = CliRunner.Run("quantize", Fixtures.Path(model, "gguf", $"{model}-f32.gguf"), output, type);
        Assert.True(code == 0, err);

        using var ours = GgufFile.Open(output);
        using var theirs = GgufFile.Open(Fixtures.Path(model, "gguf", $"{model}-{type}.gguf"));
        Assert.Equal(theirs.GetInteger("general.file_type"), ours.GetInteger("general.file_type"));
        GgufAssert.SameTensors(theirs, ours);
    }

    [Fact]
    public void AQ4_K_MFileLoadsAndRuns()
    {
        string output = Path.Combine(_dir, "tiny-q4_k_m.gguf");
        var (code, stdout, err) = CliRunner.Run("quantize", Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-f32.gguf"), output, "q4_k_m");
        Assert.True(code == 0, err);
        Assert.Contains("q4_k_m", stdout);
        using var model = LoadedModel.Load(output);
        // The tiny model's 256-wide rows fit Q4_K super-blocks; the 512-wide ffn_down of layer 0 gets Q6_K in the mix.
        Assert.Equal(Retort.Engine.Tensors.GgmlType.Q4_K, model.Weights.Tensors["blk.0.attn_q.weight"].Type);
        var run = CliRunner.Run("run", output, "-p", "hi", "--temp", "0", "-n", "4", "--ignore-eos", "--json");
        Assert.True(run.ExitCode == 0, run.Err);
    }

    [Fact]
    public void BadTypeAndSamePathAreOneLineErrors()
    {
        string input = Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf");
        var bad = CliRunner.Run("quantize", input, Path.Combine(_dir, "x.gguf"), "q3_xs");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("unknown type 'q3_xs'", bad.Err);
        Assert.False(File.Exists(Path.Combine(_dir, "x.gguf")));
        var same = CliRunner.Run("quantize", input, input, "q8_0");
        Assert.Equal(1, same.ExitCode);
        Assert.Contains("is the input file", same.Err);
    }
}
