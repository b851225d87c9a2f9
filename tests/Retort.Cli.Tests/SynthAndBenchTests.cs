using System.Text.Json;
using Retort.Cli.Commands;
using Retort.Tests.Support;
using Retort.Engine.Formats.Gguf;
using Retort.Engine.Loading;
using Retort.Engine.Model;
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
        Assert.Equal(2, r.GetProperty("repetitions").GetInt32());
        var results = r.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(2, results.Length);
        Assert.Equal(("pp", 16, 0, 0), Shape(results[0]));
        Assert.Equal(("tg", 0, 4, 0), Shape(results[1]));
        foreach (var result in results)
        {
            // Left to the engine's default when no cache type is asked for: the micro model's head
            // dimension (16) is not a whole Q8_0 block, so f16.
            Assert.Equal("f16", result.GetProperty("type_k").GetString());
            Assert.Equal("f16", result.GetProperty("type_v").GetString());
        }
        // One test of each kind: the top-level figures earlier versions printed are still there, equal to the results'.
        Assert.Equal(results[0].GetProperty("tokens_per_second").GetRawText(), r.GetProperty("pp_tokens_per_second").GetRawText());
        Assert.Equal(results[1].GetProperty("tokens_per_second").GetRawText(), r.GetProperty("tg_tokens_per_second").GetRawText());
        foreach (var s in results.Select(x => x.GetProperty("tokens_per_second")))
        {
            Assert.Equal(2, s.GetProperty("samples").GetArrayLength());
            Assert.True(s.GetProperty("mean").GetDouble() > 0);
            Assert.True(s.GetProperty("sd").GetDouble() >= 0);
        }
        Assert.True(r.GetProperty("peak_rss_bytes").GetInt64() > 1 << 20);
        Assert.True(r.GetProperty("file_bytes").GetInt64() == new FileInfo(path).Length);
        // The kernel bodies that ran, so figures from different CPUs are not mixed up.
        Assert.StartsWith(Engine.Kernels.KernelPaths.Best.ToString(), r.GetProperty("kernels").GetString());
        Assert.True(r.GetProperty("load_seconds").GetDouble() > 0);
    }

    private static (string Test, int Prompt, int Gen, int Depth) Shape(JsonElement result) =>
        (result.GetProperty("test").GetString()!, result.GetProperty("n_prompt").GetInt32(),
         result.GetProperty("n_gen").GetInt32(), result.GetProperty("n_depth").GetInt32());

    private static (string Key, string Value) Types(JsonElement result) =>
        (result.GetProperty("type_k").GetString()!, result.GetProperty("type_v").GetString()!);

    // Head dimension 64 (the micro model's is 16, too narrow for q8_0 blocks).
    private static string TinyGguf => Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf");

    [Fact]
    public void BenchListsRunEveryCombinationInLlamaBenchOrder()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", TinyGguf, "-p", "8,4", "-n", "2", "-d", "0,24",
            "--cache-type", "f16,q8_0", "-t", "1", "-r", "1", "-o", "json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToArray();
        var expected = new List<(string, string, string, int, int, int)>();
        foreach (string type in new[] { "f16", "q8_0" })
            foreach (int d in new[] { 0, 24 })
            {
                expected.Add((type, type, "pp", 8, 0, d));
                expected.Add((type, type, "pp", 4, 0, d));
                expected.Add((type, type, "tg", 0, 2, d));
            }
        Assert.Equal(expected, results.Select(x => (Types(x).Key, Types(x).Value, Shape(x).Test, Shape(x).Prompt, Shape(x).Gen, Shape(x).Depth)));
        Assert.All(results, x => Assert.True(x.GetProperty("tokens_per_second").GetProperty("mean").GetDouble() > 0));
        // Several tests of a kind: no single top-level figure to pick.
        Assert.False(doc.RootElement.TryGetProperty("pp_tokens_per_second", out _));
        Assert.False(doc.RootElement.TryGetProperty("tg_tokens_per_second", out _));
    }

    [Fact]
    public void BenchKeyAndValueListsMakeEveryPair()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", TinyGguf, "-p", "4", "-n", "0", "-ctk", "f16,q8_0", "-ctv", "bf16,q4_0",
            "-t", "1", "-r", "1", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(new[] { ("f16", "bf16"), ("f16", "q4_0"), ("q8_0", "bf16"), ("q8_0", "q4_0") }, results.Select(Types));
        Assert.All(results, x => Assert.Equal(("pp", 4, 0, 0), Shape(x)));
        // -n 0 skips generation; the one prompt size is still one test per pair, so no top-level figure.
        Assert.False(doc.RootElement.TryGetProperty("pp_tokens_per_second", out _));
    }

    [Fact]
    public void EveryRunStartsOnTopOfTheDepthAndAddsItsTokens()
    {
        using var model = LoadedModel.Load(TinyGguf, threads: 1);
        // A depth above one fill batch, so the fill takes several forward passes.
        int depth = BenchRunner.FillBatch + 88;
        var tests = BenchTest.Plan([(KvCacheType.F16, KvCacheType.Q8_0)], [depth, 8], [8], [3]);
        var runs = new List<(string Label, int Before, int After)>();
        var runner = new BenchRunner(model.Transformer, 2, new Random(1), TextWriter.Null)
        {
            AfterRun = (test, before, after) => runs.Add((test.Label, before, after)),
        };
        var results = runner.Run(tests);

        Assert.Equal(new[] { $"pp8 @ d{depth}", $"tg3 @ d{depth}", "pp8 @ d8", "tg3 @ d8" }, results.Select(r => r.Test.Label));
        Assert.All(results, r => Assert.Equal(2, r.TokensPerSecond.Samples.Length));
        // The warm-up and both repetitions of every test begin at the depth and end that many tokens further on.
        var expected = new[] { ($"pp8 @ d{depth}", depth, depth + 8), ($"tg3 @ d{depth}", depth, depth + 3), ("pp8 @ d8", 8, 16), ("tg3 @ d8", 8, 11) }
            .SelectMany(x => Enumerable.Repeat(x, 3));
        Assert.Equal(expected, runs);
    }

    [Fact]
    public void BenchMeasuresAtTheLastDepthTheContextHoldsAndRefusesOneMore()
    {
        // The micro model's context is 4096 positions.
        var fits = CliRunner.Run("bench", Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"), "-p", "8", "-n", "0", "-d", "4088", "-t", "1", "-r", "1", "--json");
        Assert.True(fits.ExitCode == 0, fits.Err);
        using (var doc = JsonDocument.Parse(fits.Out))
            Assert.Equal(("pp", 8, 0, 4088), Shape(doc.RootElement.GetProperty("results")[0]));

        var (code, stdout, stderr) = CliRunner.Run("bench", Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"), "-p", "8", "-n", "2", "-d", "0,4089", "-r", "1");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains("pp8 @ d4089 needs 4097 positions", stderr);
        Assert.Contains("context of 4096", stderr);
    }

    [Fact]
    public void BenchCsvHasOneRowPerTestWithItsSamples()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", TinyGguf, "-p", "8", "-n", "2", "-d", "0,16", "-t", "1", "-r", "3", "-o", "csv");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        string[] header = lines[0].Split(',');
        Assert.Equal(5, lines.Length);
        int test = Array.IndexOf(header, "test"), depth = Array.IndexOf(header, "n_depth"), samples = Array.IndexOf(header, "tps_samples");
        int prompt = Array.IndexOf(header, "n_prompt"), mean = Array.IndexOf(header, "tps_mean");
        Assert.True(test >= 0 && depth >= 0 && samples >= 0 && prompt >= 0 && mean >= 0, lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.All(rows, row => Assert.Equal(header.Length, row.Length));
        Assert.Equal(new[] { "pp", "tg", "pp", "tg" }, rows.Select(row => row[test]));
        Assert.Equal(new[] { "0", "0", "16", "16" }, rows.Select(row => row[depth]));
        Assert.Equal(new[] { "8", "0", "8", "0" }, rows.Select(row => row[prompt]));
        foreach (var row in rows)
        {
            double[] xs = row[samples].Split(';').Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(3, xs.Length);
            Assert.Equal(xs.Average(), double.Parse(row[mean], System.Globalization.CultureInfo.InvariantCulture), 6);
        }
    }

    [Fact]
    public void BenchMarkdownIsATableWithADepthColumn()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", TinyGguf, "-p", "8", "-n", "2", "-d", "16", "-ctk", "q8_0", "-t", "1", "-r", "1", "-o", "md");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("| model | size | params | threads | type_k | type_v | test | depth | t/s |", lines[0]);
        Assert.Matches(@"^\|( -{3}:? \|){9}$", lines[1]);
        string[] pp = lines[2].Split('|', StringSplitOptions.TrimEntries)[1..^1];
        string[] tg = lines[3].Split('|', StringSplitOptions.TrimEntries)[1..^1];
        Assert.Equal(["qwen2-tiny-q8_0.gguf", "1", "q8_0", "q8_0", "pp8 @ d16", "16"],
            [pp[0], pp[3], pp[4], pp[5], pp[6], pp[7]]);
        Assert.Equal("tg2 @ d16", tg[6]);
        Assert.Matches(@"^\d+\.\d\d ± \d+\.\d\d$", pp[8]);
        Assert.Equal("", lines[4]);
        Assert.StartsWith("load ", lines[5]);
    }

    [Fact]
    public void BenchTablePrintsPromptAndGenerationRows()
    {
        string path = Synth("q4_0");
        var (code, stdout, stderr) = CliRunner.Run("bench", path, "-p", "8", "-n", "2", "-d", "0,8", "-r", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("pp8 ", stdout);
        Assert.Contains("tg2 ", stdout);
        Assert.Contains("pp8 @ d8", stdout);
        Assert.Contains("tg2 @ d8", stdout);
        Assert.Contains("type_k", stdout);
        Assert.Contains("peak resident memory", stdout);
    }

    [Theory]
    [InlineData("-p", "16,x", "-p: 'x' (item 2 of '16,x') is not a token count")]
    [InlineData("-n", "4,,8", "-n: item 2 of '4,,8' is empty")]
    [InlineData("-d", "0,-5", "-d: '-5' (item 2 of '0,-5') is not a token count")]
    [InlineData("-d", "99999999999", "-d: '99999999999' (item 1 of '99999999999') is not a token count")]
    [InlineData("--cache-type", "f16,q9", "--cache-type must be one of f32, f16, bf16, q8_0, q4_0, found 'q9'")]
    [InlineData("-ctk", "q8_0,zz", "--cache-type-k must be one of f32, f16, bf16, q8_0, q4_0, found 'zz'")]
    [InlineData("-ctv", "f16,", "--cache-type-v: item 2 of 'f16,' is empty")]
    [InlineData("-o", "xml", "-o must be one of table, csv, json, md, found 'xml'")]
    public void BenchRefusesABadListItemInOneLine(string flag, string value, string message)
    {
        var args = new List<string> { "bench", Fixtures.Path("qwen2-micro", "hf"), "-r", "1", flag, value };
        if (flag != "-p") args.AddRange(["-p", "4"]);
        if (flag != "-n") args.AddRange(["-n", "1"]);
        var (code, stdout, stderr) = CliRunner.Run([.. args]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains(message, stderr);
    }

    [Fact]
    public void BenchRefusesNothingToMeasureAndConflictingOutputs()
    {
        string model = Fixtures.Path("qwen2-micro", "hf");
        var nothing = CliRunner.Run("bench", model, "-p", "0", "-n", "0,0");
        Assert.Equal(1, nothing.ExitCode);
        Assert.Contains("nothing to measure", nothing.Err);
        var both = CliRunner.Run("bench", model, "-p", "4", "-n", "1", "--json", "-o", "csv");
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("--json and -o csv", both.Err);
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
