using Retort.Engine.Conversion;
using Retort.Engine.Formats.Gguf;
using Retort.Engine.Loading;
using Retort.Engine.Tests.Support;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Formats;

/// <summary>
/// Models cut by gguf-split into PREFIX-0000k-of-0000n.gguf parts: written here the way llama.cpp's
/// gguf-split lays them out (every part a GGUF with split.no, split.count and split.tensors.count;
/// the model's metadata in the first part only), then loaded, compared and re-quantized.
/// </summary>
public sealed class GgufSplitModelTests
{
    private static string Whole => Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf");

    /// <summary>Writes the fixture as parts of prefix; returns the part paths.</summary>
    private static string[] WriteSplit(string dir, int parts, Action<int, GgufWriter>? tamper = null)
    {
        using var whole = GgufFile.Open(Whole);
        var tensors = whole.TensorList;
        var paths = new string[parts];
        for (int i = 0; i < parts; i++)
        {
            var writer = new GgufWriter();
            if (i == 0)
                foreach (string key in whole.MetadataKeys) writer.SetMetadata(key, whole.Metadata[key]);
            writer.SetMetadata(GgufSplitModel.IndexKey, GgufValue.Of((ushort)i));
            writer.SetMetadata(GgufSplitModel.CountKey, GgufValue.Of((ushort)parts));
            writer.SetMetadata(GgufSplitModel.TensorCountKey, GgufValue.Of(tensors.Count));
            for (int t = i * tensors.Count / parts; t < (i + 1) * tensors.Count / parts; t++) writer.AddTensor(tensors[t]);
            tamper?.Invoke(i, writer);
            paths[i] = Path.Combine(dir, $"tiny-Q8_0-{i + 1:D5}-of-{parts:D5}.gguf");
            writer.Write(paths[i]);
        }
        return paths;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)] // a later part named on the command line means the model
    public void ASplitModelGivesTheWholeFilesLogits(int named)
    {
        using var dir = new TempDir();
        var paths = WriteSplit(dir.Path, 3);
        using var whole = LoadedModel.Load(Whole);
        using var split = LoadedModel.Load(paths[named]);
        Assert.IsType<GgufSplitModel>(split.Weights);
        Assert.Equal(whole.Weights.Tensors.Keys.Order(), split.Weights.Tensors.Keys.Order());
        int[] tokens = whole.Tokenizer.Encode("鸡兔同笼 chickens and rabbits");
        var expected = whole.Transformer.Forward(tokens, whole.Transformer.CreateCache(64));
        var actual = split.Transformer.Forward(tokens, split.Transformer.CreateCache(64));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void AMissingPartIsNamed()
    {
        using var dir = new TempDir();
        var paths = WriteSplit(dir.Path, 3);
        File.Delete(paths[1]);
        var ex = Assert.Throws<RetortException>(() => LoadedModel.Load(paths[0]));
        Assert.Contains("part 2 of 3 is missing", ex.Message);
        Assert.Contains(Path.GetFileName(paths[1]), ex.Message);
    }

    [Fact]
    public void PartsThatDoNotBelongTogetherAreRejected()
    {
        using var dir = new TempDir();
        var paths = WriteSplit(dir.Path, 2);
        // Part 2 taken from a three-part split of the same model: its split.count says 3.
        using var other = new TempDir();
        var foreign = WriteSplit(other.Path, 3);
        File.Copy(foreign[1], paths[1], overwrite: true);
        var ex = Assert.Throws<RetortException>(() => LoadedModel.Load(paths[0]));
        Assert.Contains("expected split part 1 of 2", ex.Message);
    }

    [Fact]
    public void RequantizingASplitModelWritesOneWholeFile()
    {
        using var dir = new TempDir();
        var paths = WriteSplit(dir.Path, 2);
        string output = dir.File("merged-f32.gguf");
        int converted = GgufRequantizer.Requantize(paths[0], output, "f32");
        using var whole = GgufFile.Open(Whole);
        using var merged = GgufFile.Open(output);
        Assert.Equal(whole.TensorList.Select(t => t.Name), merged.TensorList.Select(t => t.Name));
        Assert.Equal(whole.TensorList.Count(t => t.Shape.Length == 2), converted);
        Assert.DoesNotContain(merged.MetadataKeys, k => k.StartsWith("split.", StringComparison.Ordinal));
        Assert.Null(GgufSplitModel.PartPaths(output));
    }

    [Fact]
    public void PartPathsFollowTheSplitNaming()
    {
        var parts = GgufSplitModel.PartPaths("/m/DeepSeek-R1-Q8_0-00002-of-00003.gguf");
        Assert.NotNull(parts);
        Assert.Equal(["/m/DeepSeek-R1-Q8_0-00001-of-00003.gguf", "/m/DeepSeek-R1-Q8_0-00002-of-00003.gguf", "/m/DeepSeek-R1-Q8_0-00003-of-00003.gguf"], parts!);
        Assert.Null(GgufSplitModel.PartPaths("/m/model-Q4_K_M.gguf"));
    }
}
