using Retort.Engine.Formats.Gguf;
using Retort.Engine.Tensors;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Formats;

public class GgufFileTests
{
    private static string Micro(string variant) => Fixtures.Path("qwen2-micro", "gguf", $"qwen2-micro-{variant}.gguf");

    [Fact]
    public void OpensFixtureWithExpectedHeaderMetadataAndTensors()
    {
        // Expected values read off the fixture with an independent Python script.
        using var g = GgufFile.Open(Micro("f32"));
        Assert.Equal(3u, g.Version);
        Assert.Equal(32u, g.Alignment);
        Assert.Equal(21, g.Metadata.Count);
        Assert.Equal(27, g.TensorList.Count);
        Assert.Equal(0, g.DataOffset % 32);
        Assert.True(g.DataOffset >= 13725 && g.DataOffset < 13725 + 32);
        Assert.Equal("qwen2", g.GetString("general.architecture"));
        Assert.Equal("deepseek-r1-qwen", g.GetString("tokenizer.ggml.pre"));
        Assert.Equal(2, g.GetInteger("qwen2.block_count"));
        Assert.Equal(64, g.GetInteger("qwen2.embedding_length"));
        Assert.Equal(460, g.GetInteger("tokenizer.ggml.bos_token_id"));
        Assert.Equal(457, g.GetInteger("tokenizer.ggml.eos_token_id"));
        Assert.Equal(BitConverter.Int32BitsToSingle(0x358637bd), (float)g.GetFloat("qwen2.attention.layer_norm_rms_epsilon")!.Value);
        string[] tokens = g.GetStringArray("tokenizer.ggml.tokens")!;
        Assert.Equal(["!", "\"", "#"], tokens[..3]);
        Assert.Equal("Ġ a", g.GetStringArray("tokenizer.ggml.merges")![0]);
        long[] types = g.GetIntegerArray("tokenizer.ggml.token_type")!;
        Assert.Equal(tokens.Length, types.Length);
        Assert.Equal(1, types[0]);
        Assert.Equal("general.architecture", g.MetadataKeys[0]);
        Assert.Equal("general.quantization_version", g.MetadataKeys[^1]);

        Assert.Equal("output.weight", g.TensorList[0].Name);
        Assert.Equal("token_embd.weight", g.TensorList[1].Name);
        Assert.Equal("blk.0.attn_norm.weight", g.TensorList[2].Name);
        TensorData emb = g.Tensors["token_embd.weight"];
        Assert.Equal(GgmlType.F32, emb.Type);
        Assert.Equal([64L, 512L], emb.Shape);
        Assert.Equal(512, emb.RowCount);
        Assert.Equal(64 * 512 * 4, emb.ByteLength);

        // The tensor's first bytes are at DataOffset + 131072 in the file.
        byte[] file = File.ReadAllBytes(Micro("f32"));
        Assert.True(file.AsSpan((int)g.DataOffset + 131072, 256).SequenceEqual(emb.AllBytes()[..256]));
    }

    [Fact]
    public void QuantizedFixtureHasQ8_0Weights()
    {
        using var g = GgufFile.Open(Micro("q8_0"));
        TensorData t = g.Tensors["token_embd.weight"];
        Assert.Equal(GgmlType.Q8_0, t.Type);
        Assert.Equal(64 / 32 * 34 * 512, t.ByteLength);
        Assert.Equal(GgmlType.F32, g.Tensors["blk.0.attn_norm.weight"].Type);
        Assert.Equal(7, g.GetInteger("general.file_type"));
    }

    [Fact]
    public void TypedGettersConvertAndRejectWrongTypes()
    {
        using var dir = new TempDir();
        string path = dir.File("g.gguf");
        new GgufWriter()
            .SetMetadata("u8", GgufValue.Of((byte)200))
            .SetMetadata("i16", GgufValue.Of((short)-3))
            .SetMetadata("u64big", GgufValue.Of(ulong.MaxValue))
            .SetMetadata("f64", GgufValue.Of(2.5))
            .SetMetadata("b", GgufValue.Of(true))
            .SetMetadata("s", GgufValue.Of("x"))
            .SetMetadata("u16s", GgufValue.Of(new ushort[] { 1, 65535 }))
            .SetMetadata("f64s", GgufValue.Of(new[] { 0.5, -1.25 }))
            .SetMetadata("i8s", GgufValue.Of(new sbyte[] { -1, 7 }))
            .Write(path);
        using var g = GgufFile.Open(path);
        Assert.Equal(200, g.GetInteger("u8"));
        Assert.Equal(-3, g.GetInteger("i16"));
        Assert.Equal(-3.0, g.GetFloat("i16"));
        Assert.Equal(2.5, g.GetFloat("f64"));
        Assert.True(g.GetBool("b"));
        Assert.Null(g.GetString("missing"));
        Assert.Null(g.GetInteger("missing"));
        Assert.Equal([1L, 65535L], g.GetIntegerArray("u16s")!);
        Assert.Equal([0.5f, -1.25f], g.GetFloatArray("f64s")!);
        Assert.Equal([-1f, 7f], g.GetFloatArray("i8s")!);
        Assert.Throws<RetortException>(() => g.GetString("u8"));
        Assert.Throws<RetortException>(() => g.GetInteger("f64"));
        Assert.Throws<RetortException>(() => g.GetInteger("u64big"));
        Assert.Throws<RetortException>(() => g.GetStringArray("u16s"));
        Assert.Throws<RetortException>(() => g.GetBool("s"));
    }

    [Fact]
    public void HandBuiltV2FileWithAllScalarTypesAndNestedArrays()
    {
        using var dir = new TempDir();
        var raw = new RawGguf().Header(2, 1, 14);
        raw.Str("u8").U32(0).U8(250);
        raw.Str("i8").U32(1).U8(0xFE);
        raw.Str("u16").U32(2).U8(0x34).U8(0x12);
        raw.Str("i16").U32(3).U8(0xFF).U8(0xFF);
        raw.Str("u32").U32(4).U32(0xDEADBEEF);
        raw.Str("i32").U32(5).U32(0xFFFFFFF6);
        raw.Str("f32").U32(6).F32(1.5f);
        raw.Str("bool").U32(7).U8(1);
        raw.Str("str").U32(8).Str("héllo");
        raw.Str("u64").U32(10).U64(1UL << 40);
        raw.Str("i64").U32(11).U64(unchecked((ulong)-5L));
        raw.Str("f64").U32(12).U64((ulong)BitConverter.DoubleToInt64Bits(-0.125));
        // [[1, 2], []] as an array of uint32 arrays.
        raw.Str("nested").U32(9).U32(9).U64(2).U32(4).U64(2).U32(1).U32(2).U32(4).U64(0);
        raw.Str("general.alignment").U32(4).U32(64);
        raw.TensorInfo("t", [32], 0, 0).Align(64).Bytes(128, 0x3F);
        using var g = GgufFile.Open(raw.WriteTo(dir));

        Assert.Equal(2u, g.Version);
        Assert.Equal(64u, g.Alignment);
        Assert.Equal(0, g.DataOffset % 64);
        Assert.Equal(GgufValue.Of((byte)250), g.Metadata["u8"]);
        Assert.Equal(GgufValue.Of((sbyte)-2), g.Metadata["i8"]);
        Assert.Equal(GgufValue.Of((ushort)0x1234), g.Metadata["u16"]);
        Assert.Equal(GgufValue.Of((short)-1), g.Metadata["i16"]);
        Assert.Equal(GgufValue.Of(0xDEADBEEFu), g.Metadata["u32"]);
        Assert.Equal(GgufValue.Of(-10), g.Metadata["i32"]);
        Assert.Equal(GgufValue.Of(1.5f), g.Metadata["f32"]);
        Assert.Equal(GgufValue.Of(true), g.Metadata["bool"]);
        Assert.Equal("héllo", g.GetString("str"));
        Assert.Equal(1L << 40, g.GetInteger("u64"));
        Assert.Equal(-5, g.GetInteger("i64"));
        Assert.Equal(-0.125, g.GetFloat("f64"));
        GgufValue nested = g.Metadata["nested"];
        Assert.Equal(GgufValueType.Array, nested.ElementType);
        Assert.Equal(GgufValue.OfArrays([GgufValue.Of(new uint[] { 1, 2 }), GgufValue.Of(Array.Empty<uint>())]), nested);
        Assert.NotEqual(GgufValue.OfArrays([GgufValue.Of(new uint[] { 1, 3 }), GgufValue.Of(Array.Empty<uint>())]), nested);
        Assert.Equal(32 * 4, g.Tensors["t"].ByteLength);
        Assert.Equal(0x3F, g.Tensors["t"].AllBytes()[0]);
    }

    [Fact]
    public void WriterRoundTripPreservesEveryValueTypeAndTensor()
    {
        using var dir = new TempDir();
        string path = dir.File("rt.gguf");
        var meta = new List<(string, GgufValue)>
        {
            ("a.u8", GgufValue.Of((byte)7)), ("a.i8", GgufValue.Of((sbyte)-7)), ("a.u16", GgufValue.Of((ushort)700)),
            ("a.i16", GgufValue.Of((short)-700)), ("a.u32", GgufValue.Of(70000u)), ("a.i32", GgufValue.Of(-70000)),
            ("a.f32", GgufValue.Of(float.NaN)), ("a.bool", GgufValue.Of(false)), ("a.str", GgufValue.Of("日本語 ok")),
            ("a.u64", GgufValue.Of(ulong.MaxValue)), ("a.i64", GgufValue.Of(long.MinValue)), ("a.f64", GgufValue.Of(Math.PI)),
            ("b.u8", GgufValue.Of(new byte[] { 1, 2, 3 })), ("b.i8", GgufValue.Of(new sbyte[] { -1 })),
            ("b.u16", GgufValue.Of(new ushort[] { 9 })), ("b.i16", GgufValue.Of(new short[] { -9, 9 })),
            ("b.u32", GgufValue.Of(new uint[] { 5 })), ("b.i32", GgufValue.Of(new[] { 1, -2, 3 })),
            ("b.f32", GgufValue.Of(new[] { 0.1f, -0f })), ("b.bool", GgufValue.Of(new[] { true, false, true })),
            ("b.str", GgufValue.Of(new[] { "", "x", "Ġthe" })), ("b.u64", GgufValue.Of(new ulong[] { 1UL << 63 })),
            ("b.i64", GgufValue.Of(new long[] { -1 })), ("b.f64", GgufValue.Of(new[] { 1e300 })),
            ("b.empty", GgufValue.Of(Array.Empty<string>())),
            ("c.nested", GgufValue.OfArrays([GgufValue.Of(new[] { "p", "q" }), GgufValue.OfArrays([GgufValue.Of(new[] { 1.0 })])])),
        };
        var w = new GgufWriter();
        foreach (var (k, v) in meta) w.SetMetadata(k, v);
        byte[] t1 = Enumerable.Range(0, 34 * 2 * 3).Select(i => (byte)(i * 7)).ToArray();
        byte[] t2 = Enumerable.Range(0, 4 * 5).Select(i => (byte)i).ToArray();
        w.AddTensor("q", GgmlType.Q8_0, [64, 3], t1);
        w.AddTensor("f", GgmlType.F32, [5], t2);
        w.Write(path);

        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp-*"));
        using var g = GgufFile.Open(path);
        Assert.Equal(3u, g.Version);
        Assert.Equal(meta.Select(m => m.Item1), g.MetadataKeys);
        foreach (var (k, v) in meta) Assert.Equal(v, g.Metadata[k]);
        Assert.Equal(["q", "f"], g.TensorList.Select(t => t.Name));
        Assert.Equal(GgmlType.Q8_0, g.Tensors["q"].Type);
        Assert.Equal([64L, 3L], g.Tensors["q"].Shape);
        Assert.Equal(t1, g.Tensors["q"].AllBytes().ToArray());
        Assert.Equal(t2, g.Tensors["f"].AllBytes().ToArray());
    }

    [Fact]
    public void WriterHonoursCustomAlignmentAndOverwritesAtomically()
    {
        using var dir = new TempDir();
        string path = dir.File("al.gguf");
        File.WriteAllText(path, "old contents");
        new GgufWriter().SetMetadata("general.alignment", GgufValue.Of(256u))
            .AddTensor("a", GgmlType.F32, [3], new byte[12])
            .AddTensor("b", GgmlType.F32, [1], [1, 2, 3, 4])
            .Write(path);
        using var g = GgufFile.Open(path);
        Assert.Equal(256u, g.Alignment);
        Assert.Equal(0, g.DataOffset % 256);
        Assert.Equal([1, 2, 3, 4], g.Tensors["b"].AllBytes().ToArray());
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WriterRejectsBadTensors()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.Q8_0, [16], new byte[17]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.F32, [4], new byte[15]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.IQ2_XXS, [256], new byte[66]));
        w.AddTensor("x", GgmlType.F32, [1], new byte[4]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.F32, [1], new byte[4]));
    }

    [Fact]
    public void StreamedTensorsWriteTheSameFileAsBufferedOnes()
    {
        using var dir = new TempDir();
        byte[] a = Enumerable.Range(0, 34 * 3).Select(i => (byte)i).ToArray();
        byte[] b = [1, 2, 3, 4, 5, 6, 7, 8];
        new GgufWriter().AddTensor("a", GgmlType.Q8_0, [32, 3], a).AddTensor("b", GgmlType.F32, [2], b).Write(dir.File("buffered.gguf"));
        new GgufWriter()
            .AddTensor("a", GgmlType.Q8_0, [32, 3], s => s.Write(a))
            .AddTensor("b", GgmlType.F32, [2], s => s.Write(b))
            .Write(dir.File("streamed.gguf"));
        Assert.Equal(File.ReadAllBytes(dir.File("buffered.gguf")), File.ReadAllBytes(dir.File("streamed.gguf")));

        // A producer that writes the wrong amount fails the write and leaves no file behind.
        var bad = new GgufWriter().AddTensor("a", GgmlType.F32, [2], s => s.Write(b, 0, 4));
        Assert.Throws<InvalidOperationException>(() => bad.Write(dir.File("bad.gguf")));
        Assert.Empty(Directory.GetFiles(dir.Path, "bad.gguf*"));
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("q8_0")]
    public void RewritingFixtureKeepsMetadataAndTensorBytes(string variant)
    {
        using var dir = new TempDir();
        string path = dir.File("copy.gguf");
        using var src = GgufFile.Open(Micro(variant));
        var w = new GgufWriter();
        foreach (string k in src.MetadataKeys) w.SetMetadata(k, src.Metadata[k]);
        foreach (TensorData t in src.TensorList) w.AddTensor(t);
        w.Write(path);

        using var copy = GgufFile.Open(path);
        Assert.Equal(src.MetadataKeys, copy.MetadataKeys);
        foreach (string k in src.MetadataKeys) Assert.Equal(src.Metadata[k], copy.Metadata[k]);
        Assert.Equal(src.TensorList.Select(t => t.Name), copy.TensorList.Select(t => t.Name));
        foreach (TensorData t in src.TensorList)
        {
            TensorData c = copy.Tensors[t.Name];
            Assert.Equal(t.Type, c.Type);
            Assert.Equal(t.Shape, c.Shape);
            Assert.True(t.AllBytes().SequenceEqual(c.AllBytes()), t.Name);
        }
        // llama.cpp lays the file out the same way, so the rewrite is byte-identical.
        Assert.Equal(File.ReadAllBytes(Micro(variant)), File.ReadAllBytes(path));
    }
}
