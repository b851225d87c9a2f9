using Retort.Engine.Formats.Gguf;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Formats;

public class GgufErrorTests
{
    private static RetortException Fails(byte[] bytes, params string[] fragments)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.gguf");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<RetortException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        foreach (string f in fragments) Assert.True(e.Message.Contains(f, StringComparison.Ordinal), $"\"{f}\" not in: {e.Message}");
        return e;
    }

    private static RawGguf OneTensor(string name, ulong[] dims, uint type, ulong offset = 0) =>
        new RawGguf().Header(3, 1, 0).TensorInfo(name, dims, type, offset).Align();

    [Fact]
    public void EmptyAndTinyFiles()
    {
        Fails([], "expected magic 'GGUF'", "0 bytes");
        Fails([0x47, 0x47], "expected magic 'GGUF'");
        Fails(new RawGguf().Header(3, 0, 0).ToArray()[..10], "byte 8");
    }

    [Fact]
    public void BadMagic() =>
        Fails([(byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0], "not a GGUF file", "expected magic 'GGUF'", "found 'PK\\x03\\x04'", "byte 0");

    [Fact]
    public void UnsupportedVersions()
    {
        Fails(new RawGguf().Header(1, 0, 0).ToArray(), "byte 4", "expected version 2 or 3", "version 1");
        Fails(new RawGguf().Header(4, 0, 0).ToArray(), "version 4");
        Fails(new RawGguf().Header(0x03000000, 0, 0).ToArray(), "big-endian");
    }

    [Fact]
    public void AbsurdCounts()
    {
        Fails(new RawGguf().Header(3, ulong.MaxValue, 0).ToArray(), "tensor count", "byte 8");
        Fails(new RawGguf().Header(3, 0, 1UL << 40).ToArray(), "key/value count", "byte 16");
        Fails(new RawGguf().Header(3, 0, 1).Str("arr").U32(9).U32(4).U64(1UL << 50).ToArray(), "element count of array 'arr'");
        Fails(new RawGguf().Header(3, 0, 1).Str("arr").U32(9).U32(8).U64(2).Str("only one").ToArray(), "element 1 of 'arr'");
    }

    [Fact]
    public void StringsRunningPastTheEnd()
    {
        Fails(new RawGguf().Header(3, 0, 1).U64(1000).Bytes(20).ToArray(), "key of metadata entry 0", "byte 24");
        Fails(new RawGguf().Header(3, 0, 1).Str("k").U32(8).U64(ulong.MaxValue).ToArray(), "string value of 'k'", "byte 37");
    }

    [Fact]
    public void BadValueTypes()
    {
        Fails(new RawGguf().Header(3, 0, 1).Str("k").U32(13).U32(0).ToArray(), "value type 0 to 12", "found 13");
        Fails(new RawGguf().Header(3, 0, 1).Str("k").U32(9).U32(77).U64(0).ToArray(), "array element type", "77");
    }

    [Fact]
    public void DeeplyNestedArraysAreRejectedNotStackOverflow()
    {
        var raw = new RawGguf().Header(3, 0, 1).Str("deep").U32(9);
        for (int i = 0; i < 5000; i++) raw.U32(9).U64(1);
        raw.U32(4).U64(0);
        Fails(raw.ToArray(), "nested");
    }

    [Fact]
    public void DuplicateKeysAndTensors()
    {
        Fails(new RawGguf().Header(3, 0, 2).KvU32("a", 1).KvU32("a", 2).ToArray(), "key 'a' a second time");
        var raw = new RawGguf().Header(3, 2, 0).TensorInfo("t", [4], 0, 0).TensorInfo("t", [4], 0, 32).Align().Bytes(64);
        Fails(raw.ToArray(), "tensor 't' a second time");
    }

    [Fact]
    public void BadAlignmentValue()
    {
        Fails(new RawGguf().Header(3, 0, 1).KvU32("general.alignment", 0).ToArray(), "general.alignment", "byte 49", "found UInt32 '0'");
        Fails(new RawGguf().Header(3, 0, 1).KvU32("general.alignment", 48).ToArray(), "general.alignment");
        Fails(new RawGguf().Header(3, 0, 1).KvString("general.alignment", "32").ToArray(), "general.alignment");
    }

    [Fact]
    public void BadDimensions()
    {
        Fails(OneTensor("t", [1, 1, 1, 1, 1], 0).Bytes(32).ToArray(), "tensor 't' to have 1 to 4 dimensions", "found 5");
        Fails(OneTensor("t", [], 0).Bytes(32).ToArray(), "1 to 4 dimensions", "found 0");
        Fails(OneTensor("t", [4, 0], 0).Bytes(32).ToArray(), "positive dimension 1", "found 0");
        Fails(OneTensor("t", [4, unchecked((ulong)-3L)], 0).Bytes(32).ToArray(), "positive dimension 1", "-3");
        Fails(OneTensor("t", [1UL << 32, 1UL << 32], 0).Bytes(32).ToArray(), "fewer than 2^63 elements");
        Fails(OneTensor("t", [1UL << 62, 1], 0).Bytes(32).ToArray(), "byte size under 2^63");
    }

    [Fact]
    public void UnknownTensorTypeIsNamed()
    {
        Fails(OneTensor("blk.0.attn_q.weight", [32], 99).Bytes(128).ToArray(),
            "tensor 'blk.0.attn_q.weight' has type 99, which Retort does not know");
        Fails(OneTensor("x", [256], 16).Bytes(128).ToArray(), "tensor 'x' has type 16 (IQ2_XXS), which Retort does not know");
    }

    [Fact]
    public void RowNotMultipleOfBlockSize() =>
        Fails(OneTensor("w", [48, 2], 8).Bytes(128).ToArray(), "tensor 'w' of type Q8_0", "multiple of 32", "row length 48");

    [Fact]
    public void MisalignedOffset() =>
        Fails(OneTensor("w", [4], 0, 8).Bytes(64).ToArray(), "tensor 'w' data offset aligned to 32", "found 8");

    [Fact]
    public void DataPastEndOfFile()
    {
        Fails(OneTensor("w", [64], 0).Bytes(255).ToArray(), "tensor 'w' (256 bytes at data offset 0)");
        Fails(OneTensor("w", [4], 0, 1UL << 62).Bytes(16).ToArray(), "tensor 'w'");
        Fails(new RawGguf().Header(3, 1, 0).TensorInfo("w", [4], 0, 0).ToArray(), "tensor data section");
    }

    [Fact]
    public void KnownButUnsupportedTypeStillLoads()
    {
        using var dir = new TempDir();
        string path = OneTensor("ints", [8], 26).Bytes(32).WriteTo(dir);
        using var g = GgufFile.Open(path);
        Assert.Equal(Retort.Engine.Tensors.GgmlType.I32, g.Tensors["ints"].Type);
        Assert.False(Retort.Engine.Tensors.GgmlTypeInfo.IsSupported(g.Tensors["ints"].Type));
    }

    [Fact]
    public void MissingFileIsRetortException()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<RetortException>(() => GgufFile.Open(dir.File("nope.gguf")));
        Assert.Contains("nope.gguf", e.Message);
    }
}
