using System.Text.Json;
using Retort.Tests.Support;
using Retort.Engine.Formats.Gguf;
using Retort.Engine.Loading;
using Retort.Engine.Tensors;
using Retort.Engine.Tokenization;

namespace Retort.Cli.Tests;

public sealed class SynthAndBenchTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "retort-cli-tests", Guid.NewGuid().ToString("N"));

    public SynthAndBenchTests() => Directory.CreateDirectory(_dir);

    private static string MicroHf => Fixtures.Path("qwen2-micro", "hf");

    private string Synth(string type, string name = "micro.gguf", string seed = "42")
    {
        string path = Path.Combine(_dir, name);
        var (code, stdout, stderr) = CliRunner.Run("synth", "--config", Path.Combine(MicroHf, "config.json"),
            "--tokenizer", MicroHf, "--type", type, "--seed", seed, path);
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote", stdout);
        return path;
    }

    [Theory]
    [InlineData("f32", GgmlType.F32)]
    [InlineData("f16", GgmlType.F16)]
    [InlineData("bf16", GgmlType.BF16)]
    [InlineData("q8_0", GgmlType.Q8_0)]
    [InlineData("q4_0", GgmlType.Q4_0)]
    public void SynthWritesTheConfigsShapeThatLoadsAndRuns(string type, GgmlType expected)
    {
        string path = Synth(type);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(MicroHf, "config.json")));
        var c = config.RootElement;
        int hidden = c.GetProperty("hidden_size").GetInt32(), vocab = c.GetProperty("vocab_size").GetInt32();
        int ff = c.GetProperty("intermediate_size").GetInt32(), layers = c.GetProperty("num_hidden_layers").GetInt32();
        int kv = c.GetProperty("num_key_value_heads").GetInt32() * hidden / c.GetProperty("num_attention_heads").GetInt32();

        using (var gguf = GgufFile.Open(path))
        {
            Assert.Equal("qwen2", gguf.GetString("general.architecture"));
            Assert.Equal(layers, gguf.GetInteger("qwen2.block_count"));
            Assert.Equal("gpt2", gguf.GetString("tokenizer.ggml.model"));
            // The micro tokenizer carries the R1 special tokens, so it is named as an R1 Qwen tokenizer.
            Assert.Equal("deepseek-r1-qwen", gguf.GetString("tokenizer.ggml.pre"));
            Assert.Equal(vocab, gguf.GetStringArray("tokenizer.ggml.tokens")!.Length);
            Assert.NotNull(gguf.GetString("tokenizer.chat_template"));
            // Untied head, Q/K/V biases, and 1-D tensors kept in F32 as llama.cpp does.
            var t = gguf.Tensors;
            Assert.Equal(3 + 12 * layers, t.Count);
            Assert.Equal(new long[] { hidden, vocab }, t["token_embd.weight"].Shape);
            Assert.Equal(new long[] { hidden, vocab }, t["output.weight"].Shape);
            Assert.Equal(new long[] { hidden, kv }, t["blk.1.attn_k.weight"].Shape);
            Assert.Equal(new long[] { ff, hidden }, t["blk.0.ffn_down.weight"].Shape);
            Assert.Equal(new long[] { kv }, t["blk.0.attn_v.bias"].Shape);
            Assert.Equal(expected, t["blk.0.ffn_up.weight"].Type);
            Assert.Equal(expected, t["token_embd.weight"].Type);
            Assert.Equal(GgmlType.F32, t["blk.0.attn_norm.weight"].Type);
            Assert.Equal(GgmlType.F32, t["blk.0.attn_q.bias"].Type);
        }

        using var model = LoadedModel.Load(path, threads: 1);
        Assert.False(model.Transformer.TiedEmbeddings);
        var hf = Tokenizer.FromHfFolder(MicroHf);
        using var reference = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("qwen2-micro", "reference", "tokenizer.json")));
        foreach (var entry in reference.RootElement.GetProperty("tokenization").EnumerateArray())
        {
            string text = entry.GetProperty("text").GetString()!;
            Assert.Equal(hf.Encode(text), model.Tokenizer.Encode(text));
            Assert.Equal(hf.Encode(text, addSpecialTokens: true), model.Tokenizer.Encode(text, addSpecialTokens: true));
        }

        int[] ids = model.Tokenizer.Encode("Hello world, 你好");
        float[] logits = model.Transformer.Forward(ids, model.Transformer.CreateCache(ids.Length));
        Assert.Equal(vocab, logits.Length);
        Assert.All(logits, x => Assert.True(float.IsFinite(x)));
        Assert.True(logits.Max() > logits.Min());
    }

    [Fact]
    public void Q4_K_MUsesLlamaCppsMixAndRuns()
    {
        // A 256-wide, 8-layer variant of the micro config, so the K-quants apply (rows of 256).
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(MicroHf, "config.json")))!;
        node["hidden_size"] = 256;
        node["intermediate_size"] = 512;
        node["num_hidden_layers"] = 8;
        string config = Path.Combine(_dir, "config.json");
        File.WriteAllText(config, node.ToJsonString());
        string path = Path.Combine(_dir, "k.gguf");
        var (code, _, stderr) = CliRunner.Run("synth", "--config", config, "--tokenizer", MicroHf, "--type", "q4_k_m", path);
        Assert.True(code == 0, stderr);

        using (var gguf = GgufFile.Open(path))
        {
            Assert.Equal(15, gguf.GetInteger("general.file_type"));
            var t = gguf.Tensors;
            Assert.Equal(GgmlType.Q4_K, t["token_embd.weight"].Type);
            Assert.Equal(GgmlType.Q6_K, t["output.weight"].Type);
            // use_more_bits(i, 8): the first and last eighth, and every third layer between.
            int[] more = [0, 3, 6, 7];
            for (int l = 0; l < 8; l++)
            {
                GgmlType expected = more.Contains(l) ? GgmlType.Q6_K : GgmlType.Q4_K;
                Assert.Equal(expected, t[$"blk.{l}.attn_v.weight"].Type);
                Assert.Equal(expected, t[$"blk.{l}.ffn_down.weight"].Type);
                Assert.Equal(GgmlType.Q4_K, t[$"blk.{l}.attn_q.weight"].Type);
                Assert.Equal(GgmlType.Q4_K, t[$"blk.{l}.ffn_gate.weight"].Type);
            }
        }
        using var model = LoadedModel.Load(path, threads: 1);
        int[] ids = model.Tokenizer.Encode("Hello world");
        float[] logits = model.Transformer.Forward(ids, model.Transformer.CreateCache(ids.Length));
        Assert.All(logits, x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void Q4_K_MFallsBackOnRowsThatAreNotMultiplesOf256()
    {
        string path = Synth("q4_k_m");
        using var gguf = GgufFile.Open(path);
        Assert.Equal(GgmlType.Q5_0, gguf.Tensors["blk.0.attn_q.weight"].Type);
        Assert.Equal(GgmlType.Q8_0, gguf.Tensors["output.weight"].Type);
    }

    [Fact]
    public void TheSameSeedGivesTheSameFileAndAnotherSeedAnother()
    {
        byte[] a = File.ReadAllBytes(Synth("q4_0", "a.gguf", "5"));
        byte[] b = File.ReadAllBytes(Synth("q4_0", "b.gguf", "5"));
        byte[] c = File.ReadAllBytes(Synth("q4_0", "c.gguf", "6"));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData("--preset", "qwen9-huge", "q4_0", "unknown preset 'qwen9-huge'")]
    [InlineData("--preset", "qwen2.5-0.5b", "q3_x", "unknown type 'q3_x'")]
    [InlineData("--preset", "qwen2.5-0.5b", "q3_k_s", "unknown type 'q3_k_s'")]
    public void BadPresetOrTypeIsAOneLineError(string flag, string value, string type, string message)
    {
        string path = Path.Combine(_dir, "bad.gguf");
        var (code, _, stderr) = CliRunner.Run("synth", flag, value, "--type", type, "--tokenizer", MicroHf, path);
        Assert.Equal(1, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void PresetAndConfigTogetherOrNeitherIsAnError()
    {
        string path = Path.Combine(_dir, "bad.gguf");
        var neither = CliRunner.Run("synth", "--tokenizer", MicroHf, path);
        Assert.Equal(1, neither.ExitCode);
        Assert.Contains("exactly one of --preset", neither.Err);
        var both = CliRunner.Run("synth", "--preset", "qwen2.5-0.5b", "--config", Path.Combine(MicroHf, "config.json"),
            "--tokenizer", MicroHf, path);
        Assert.Equal(1, both.ExitCode);
    }

    [Fact]
    public void BenchJsonReportsSpeedsMemoryAndLoadTime()
    {
        string path = Synth("q8_0");
        var (code, stdout, stderr) = CliRunner.Run("bench", path, "-p", "16", "-n", "4", "-t", "1", "-r", "2", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        Assert.Equal(1, r.GetProperty("threads").GetInt32());
        Assert.Equal(16, r.GetProperty("n_prompt").GetInt32());
        Assert.Equal(4, r.GetProperty("n_gen").GetInt32());
        foreach (string key in new[] { "pp_tokens_per_second", "tg_tokens_per_second" })
        {
            var s = r.GetProperty(key);
            Assert.Equal(2, s.GetProperty("samples").GetArrayLength());
            Assert.True(s.GetProperty("mean").GetDouble() > 0);
            Assert.True(s.GetProperty("sd").GetDouble() >= 0);
        }
        Assert.True(r.GetProperty("peak_rss_bytes").GetInt64() > 1 << 20);
        // The kernel bodies that ran, so figures from different CPUs are not mixed up.
        Assert.StartsWith(Engine.Kernels.KernelPaths.Best.ToString(), r.GetProperty("kernels").GetString());
        Assert.True(r.GetProperty("load_seconds").GetDouble() > 0);
    }

    [Fact]
    public void BenchTablePrintsPromptAndGenerationRows()
    {
        string path = Synth("q4_0");
        var (code, stdout, stderr) = CliRunner.Run("bench", path, "-p", "8", "-n", "2", "-r", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("pp8", stdout);
        Assert.Contains("tg2", stdout);
        Assert.Contains("peak resident memory", stdout);
    }

    [Theory]
    [InlineData("-r", "0", "-r must be at least 1")]
    [InlineData("-t", "-2", "--threads must be 0")]
    public void BenchRejectsBadSettings(string flag, string value, string message)
    {
        var (code, _, stderr) = CliRunner.Run("bench", Fixtures.Path("qwen2-micro", "hf"), "-p", "4", "-n", "1", flag, value);
        Assert.Equal(1, code);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public void RunAcceptsThreads()
    {
        var (code, _, stderr) = CliRunner.Run("run", Fixtures.Path("qwen2-micro", "hf"), "-p", "hi", "-n", "3", "--temp", "0", "-t", "1", "--json");
        Assert.True(code == 0, stderr);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
