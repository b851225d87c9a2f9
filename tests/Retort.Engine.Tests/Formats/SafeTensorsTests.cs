using System.Text.Json;
using Retort.Engine.Formats.Gguf;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.Tensors;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Formats;

public class SafeTensorsTests
{
    private static string MicroGguf(string v) => Fixtures.Path("qwen2-micro", "gguf", $"qwen2-micro-{v}.gguf");

    [Theory]
    [InlineData("qwen2-micro")]
    [InlineData("qwen2-tiny")]
    public void HfF32FolderEqualsF32GgufBitForBit(string model)
    {
        using var hf = HfModelFolder.Open(Fixtures.Path(model, "hf"));
        using var gguf = GgufFile.Open(Fixtures.Path(model, "gguf", $"{model}-f32.gguf"));
        Assert.Equal(gguf.Tensors.Keys.Order(), hf.Tensors.Keys.Order());
        foreach (TensorData g in gguf.TensorList)
        {
            TensorData h = hf.Tensors[g.Name];
            Assert.Equal(g.Name, h.Name);
            Assert.Equal(GgmlType.F32, h.Type);
            Assert.Equal(g.Shape, h.Shape);
            Assert.True(g.AllBytes().SequenceEqual(h.AllBytes()), g.Name);
        }
        Assert.Equal("qwen2", hf.Config.GetProperty("model_type").GetString());
        Assert.Equal(gguf.GetInteger($"qwen2.embedding_length"), hf.Config.GetProperty("hidden_size").GetInt64());
    }

    [Fact]
    public void HfBf16FolderIsCloseToF32Gguf()
    {
        using var hf = HfModelFolder.Open(Fixtures.Path("qwen2-micro", "hf-bf16"));
        using var gguf = GgufFile.Open(MicroGguf("f32"));
        foreach (TensorData g in gguf.TensorList)
        {
            TensorData h = hf.Tensors[g.Name];
            Assert.Equal(GgmlType.BF16, h.Type);
            Assert.Equal(g.Shape, h.Shape);
            float[] expected = Quantization.FixtureDequantizeTests.Rows(g);
            float[] actual = Quantization.FixtureDequantizeTests.Rows(h);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= Math.Abs(expected[i]) * Math.Pow(2, -8), $"{g.Name}[{i}]");
        }
    }

    [Fact]
    public void RawSafeTensorsKeepsHfNamesAndReversesShape()
    {
        using var st = SafeTensorsFile.Open(Fixtures.Path("qwen2-micro", "hf", "model.safetensors"));
        Assert.Equal("pt", st.Metadata["format"]);
        TensorData down = st.Tensors["model.layers.0.mlp.down_proj.weight"];
        // The header (read by hand) lists shape [64, 128] at data_offsets [262400, ...].
        Assert.Equal([128L, 64L], down.Shape);
        Assert.Equal(64 * 128 * 4, down.ByteLength);
        byte[] file = File.ReadAllBytes(st.Path);
        Assert.True(file.AsSpan((int)st.DataOffset + 262400, 64).SequenceEqual(down.AllBytes()[..64]));
        Assert.Equal("lm_head.weight", st.TensorList[0].Name);
    }

    [Theory]
    [InlineData("model.embed_tokens.weight", "token_embd.weight")]
    [InlineData("model.norm.weight", "output_norm.weight")]
    [InlineData("lm_head.weight", "output.weight")]
    [InlineData("model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight")]
    [InlineData("model.layers.12.post_attention_layernorm.weight", "blk.12.ffn_norm.weight")]
    [InlineData("model.layers.3.self_attn.q_proj.weight", "blk.3.attn_q.weight")]
    [InlineData("model.layers.3.self_attn.k_proj.bias", "blk.3.attn_k.bias")]
    [InlineData("model.layers.3.self_attn.v_proj.bias", "blk.3.attn_v.bias")]
    [InlineData("model.layers.27.self_attn.o_proj.weight", "blk.27.attn_output.weight")]
    [InlineData("model.layers.1.mlp.gate_proj.weight", "blk.1.ffn_gate.weight")]
    [InlineData("model.layers.1.mlp.up_proj.weight", "blk.1.ffn_up.weight")]
    [InlineData("model.layers.1.mlp.down_proj.weight", "blk.1.ffn_down.weight")]
    [InlineData("model.layers.1.mlp.down_proj.scales", "model.layers.1.mlp.down_proj.scales")]
    [InlineData("model.layers.x.mlp.up_proj.weight", "model.layers.x.mlp.up_proj.weight")]
    [InlineData("model.layers.0.self_attn.rotary_emb.inv_freq", "model.layers.0.self_attn.rotary_emb.inv_freq")]
    [InlineData("something.else", "something.else")]
    public void HfNamesMapToGgufNames(string hf, string gguf) => Assert.Equal(gguf, HfTensorNames.ToGguf(hf));

    private static void CopyConfig(TempDir dir) =>
        File.Copy(Fixtures.Path("qwen2-micro", "hf", "config.json"), dir.File("config.json"));

    /// <summary>Splits the fixture's tensors over two shards plus an index, the way transformers saves large models.</summary>
    internal static void WriteShardedCopy(TempDir dir)
    {
        CopyConfig(dir);
        using var st = SafeTensorsFile.Open(Fixtures.Path("qwen2-micro", "hf", "model.safetensors"));
        var shards = new[] { new SafeTensorsBuilder(), new SafeTensorsBuilder() };
        string[] names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
        var map = new Dictionary<string, string>();
        for (int i = 0; i < st.TensorList.Count; i++)
        {
            TensorData t = st.TensorList[i];
            int s = i % 2;
            shards[s].Add(t.Name, "F32", t.Shape.Reverse().ToArray(), t.AllBytes().ToArray());
            map[t.Name] = names[s];
        }
        for (int s = 0; s < 2; s++) File.WriteAllBytes(dir.File(names[s]), shards[s].ToArray());
        File.WriteAllText(dir.File("model.safetensors.index.json"),
            JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map }));
    }

    [Fact]
    public void ShardedFolderLoadsTheSameTensors()
    {
        using var dir = new TempDir();
        WriteShardedCopy(dir);
        using var single = HfModelFolder.Open(Fixtures.Path("qwen2-micro", "hf"));
        using var sharded = HfModelFolder.Open(dir.Path);
        Assert.Equal(2, sharded.Files.Count);
        Assert.Equal(single.Tensors.Keys.Order(), sharded.Tensors.Keys.Order());
        foreach (var (name, t) in single.Tensors)
        {
            TensorData s = sharded.Tensors[name];
            Assert.Equal(t.Shape, s.Shape);
            Assert.Equal(t.Type, s.Type);
            Assert.True(t.AllBytes().SequenceEqual(s.AllBytes()), name);
        }
    }

    [Fact]
    public void MissingConfigIsNamed()
    {
        using var dir = new TempDir();
        File.Copy(Fixtures.Path("qwen2-micro", "hf", "model.safetensors"), dir.File("model.safetensors"));
        var e = Assert.Throws<RetortException>(() => HfModelFolder.Open(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void MissingWeightsAndMissingFolder()
    {
        using var dir = new TempDir();
        CopyConfig(dir);
        Assert.Contains("model.safetensors", Assert.Throws<RetortException>(() => HfModelFolder.Open(dir.Path)).Message);
        Assert.Contains("does not exist", Assert.Throws<RetortException>(() => HfModelFolder.Open(dir.File("nope"))).Message);
    }

    [Fact]
    public void MissingShardIsNamed()
    {
        using var dir = new TempDir();
        WriteShardedCopy(dir);
        File.Delete(dir.File("model-00002-of-00002.safetensors"));
        var e = Assert.Throws<RetortException>(() => HfModelFolder.Open(dir.Path));
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void IndexPointingOutsideTheFolderOrAtAWrongShard()
    {
        using var dir = new TempDir();
        WriteShardedCopy(dir);
        string index = File.ReadAllText(dir.File("model.safetensors.index.json"));
        File.WriteAllText(dir.File("model.safetensors.index.json"), index.Replace("\"model-00002-of-00002.safetensors\"", "\"../x.safetensors\""));
        Assert.Contains("plain file name", Assert.Throws<RetortException>(() => HfModelFolder.Open(dir.Path)).Message);
        File.WriteAllText(dir.File("model.safetensors.index.json"), index.Replace("\"model-00002-of-00002.safetensors\"", "\"model-00001-of-00002.safetensors\""));
        Assert.Contains("expected tensor", Assert.Throws<RetortException>(() => HfModelFolder.Open(dir.Path)).Message);
        File.WriteAllText(dir.File("model.safetensors.index.json"), "{ not json");
        Assert.Contains("valid JSON", Assert.Throws<RetortException>(() => HfModelFolder.Open(dir.Path)).Message);
    }

    private static RetortException BadFile(byte[] bytes, string fragment)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<RetortException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"\"{fragment}\" not in: {e.Message}");
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void BadHeadersAreRetortExceptions()
    {
        byte[] data16 = new byte[16];
        BadFile([], "8-byte header length");
        BadFile([1, 2, 3], "8-byte header length");
        BadFile([.. BitConverter.GetBytes(1UL << 40), .. "{}"u8], "header length from 2 to");
        BadFile([.. BitConverter.GetBytes(0UL)], "header length");
        BadFile(SafeTensorsBuilder.Build("{\"a\": ", data16), "invalid JSON");
        BadFile(SafeTensorsBuilder.Build("[1, 2]", data16), "JSON object header");
        BadFile(SafeTensorsBuilder.Build("{\"a\": 5}", data16), "tensor 'a' to be a JSON object");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"shape\": [4], \"data_offsets\": [0, 16]}}", data16), "'dtype'");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 16]}}", data16), "'shape'");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [-4], \"data_offsets\": [0, 16]}}", data16), "non-negative integer dimensions");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [4]}}", data16), "data_offsets");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 32]}}", data16), "inside the 16-byte data section");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 4]}}", data16), "tensor 'a' data");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", data16), "to take 12 bytes");
        BadFile(SafeTensorsBuilder.Build("{\"ok\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"b\": {\"dtype\": \"F32\", \"shape\": [5], \"data_offsets\": [4, 16]}}", data16), "at byte 71:");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 16]}}", data16), "fewer than 2^63");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"dtype\": \"BOOL\", \"shape\": [16], \"data_offsets\": [0, 16]}}", data16), "tensor 'a' has dtype BOOL, which Retort does not support");
        BadFile(SafeTensorsBuilder.Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", data16), "'a' twice");
        BadFile(SafeTensorsBuilder.Build("{\"__metadata__\": {\"x\": 1}}", data16), "__metadata__ value 'x'");
    }

    [Fact]
    public void ScalarsEmptyTensorsAndOtherKnownDtypes()
    {
        using var dir = new TempDir();
        string path = dir.File("ok.safetensors");
        File.WriteAllBytes(path, new SafeTensorsBuilder()
            .Add("scalar", "F32", [], BitConverter.GetBytes(2.5f))
            .Add("empty", "F16", [0, 3], [])
            .Add("ids", "I64", [2], new byte[16])
            .Add("w", "BF16", [2, 3, 4], new byte[48])
            .ToArray());
        using var st = SafeTensorsFile.Open(path);
        Assert.Equal([1L], st.Tensors["scalar"].Shape);
        Assert.Equal(2.5f, BitConverter.ToSingle(st.Tensors["scalar"].AllBytes()));
        Assert.Equal(0, st.Tensors["empty"].ElementCount);
        Assert.Equal(GgmlType.I64, st.Tensors["ids"].Type);
        Assert.Equal([4L, 3L, 2L], st.Tensors["w"].Shape);
        Assert.Equal(6, st.Tensors["w"].RowCount);
    }
}
