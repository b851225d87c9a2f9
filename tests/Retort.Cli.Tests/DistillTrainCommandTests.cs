using System.Text.Json;
using Retort.Engine.Loading;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

public sealed class DistillTrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("retort-distill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Data(params string[] extra)
    {
        string path = Path.Combine(_dir, "traces.jsonl");
        var lines = Enumerable.Range(0, 12).Select(i =>
            JsonSerializer.Serialize(new { prompt = $"What is {i} plus 2?", reasoning = $"{i} plus 2 is {i + 2}.", answer = $"{i + 2}" }));
        File.WriteAllLines(path, [.. lines, .. extra]);
        return path;
    }

    [Fact]
    public void LoraKdRunWritesModelAdapterCheckpointsLogCurveAndGguf()
    {
        string outDir = Path.Combine(_dir, "out");
        var (code, stdout, err) = CliRunner.Run("distill", "train", "--student", Fixtures.Path("qwen2-micro", "hf"),
            "--teacher", Fixtures.Path("qwen2-tiny", "hf"), "--loss", "kd", "--data", Data(), "--out", outDir, "--steps", "3",
            "--batch", "2", "--seq-len", "64", "--lora-rank", "4", "--lr", "1e-3", "--gguf", "f32", "-t", "2");
        Assert.True(code == 0, err);
        Assert.Contains("step 3/3 loss", stdout);
        Assert.Contains("done: 3 steps", stdout);
        foreach (string file in new[] { "log.jsonl", "loss.png", "model.gguf", "model/config.json", "model/model.safetensors", "model/tokenizer.json",
                     "adapter/adapter_config.json", "adapter/adapter_model.safetensors", "checkpoints/latest" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);
        using var exported = LoadedModel.Load(Path.Combine(outDir, "model.gguf"), threads: 1);
        Assert.Equal(64, exported.Config.HiddenSize);

        string merged = Path.Combine(_dir, "merged");
        var merge = CliRunner.Run("lora", "merge", Fixtures.Path("qwen2-micro", "hf"), Path.Combine(outDir, "adapter"), merged);
        Assert.True(merge.ExitCode == 0, merge.Err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(outDir, "model", "model.safetensors")), File.ReadAllBytes(Path.Combine(merged, "model.safetensors")));
    }

    [Fact]
    public void TrainsFromAConfigAndResumes()
    {
        string config = Path.Combine(_dir, "config.json");
        File.WriteAllText(config, """
            {"model_type": "qwen2", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
             "intermediate_size": 64, "vocab_size": 512, "max_position_embeddings": 256, "tie_word_embeddings": true}
            """);
        string outDir = Path.Combine(_dir, "scratch");
        string[] args = ["distill", "train", "--init-config", config, "--tokenizer", Fixtures.Path("qwen2-micro", "hf"), "--data", Data(),
            "--out", outDir, "--steps", "4", "--save-every", "2", "--batch", "2", "--seq-len", "64", "--lr", "1e-3", "-t", "1"];
        var first = CliRunner.Run(args);
        Assert.True(first.ExitCode == 0, first.Err);
        var again = CliRunner.Run([.. args, "--resume"]);
        Assert.True(again.ExitCode == 0, again.Err);
        Assert.DoesNotContain("step 1/4", again.Out); // nothing left to do after the final checkpoint
        using var model = LoadedModel.Load(Path.Combine(outDir, "model"), threads: 1);
        Assert.True(model.Transformer.TiedEmbeddings);
    }

    [Fact]
    public void PrecomputedTeacherLogitsTrainAndAreRefusedForOtherData()
    {
        string logits = Path.Combine(_dir, "logits.bin");
        var made = CliRunner.Run("distill", "teacher-logits", "--teacher", Fixtures.Path("qwen2-tiny", "hf"), "--tokenizer", Fixtures.Path("qwen2-micro", "hf"),
            "--data", Data(), "--out", logits, "--top-k", "8", "-t", "1");
        Assert.True(made.ExitCode == 0, made.Err);
        Assert.Contains("12 examples", made.Out);
        Assert.Contains("top-8 of 464 tokens", made.Out);

        string[] train = ["distill", "train", "--student", Fixtures.Path("qwen2-micro", "hf"), "--teacher-logits", logits, "--loss", "kd",
            "--temperature-schedule", "linear", "--temperature", "2", "--temperature-end", "1", "--out", Path.Combine(_dir, "topk"),
            "--steps", "2", "--batch", "2", "--seq-len", "64", "--qat", "q4_0", "-t", "1"];
        var run = CliRunner.Run([.. train, "--data", Data()]);
        Assert.True(run.ExitCode == 0, run.Err);
        Assert.Contains("done: 2 steps", run.Out);

        var stale = CliRunner.Run([.. train, "--data", Data("""{"prompt": "one more", "completion": "line"}""")]);
        Assert.Equal(1, stale.ExitCode);
        Assert.StartsWith($"error: {logits}: made for other data", stale.Err);
    }

    [Fact]
    public void TwoTeachersGradientMatchingAdaptiveTemperatureAndFeaturesTrainAndResume()
    {
        string outDir = Path.Combine(_dir, "mix");
        string[] args = ["distill", "train", "--student", Fixtures.Path("qwen2-micro", "hf"), "--teacher", Fixtures.Path("qwen2-tiny", "hf"),
            "--teacher", Fixtures.Path("qwen2-micro", "hf"), "--teacher-weights", "0.7,0.3", "--loss", "grad_match",
            "--temperature-schedule", "adaptive", "--temperature-end", "4", "--feature-layers", "0:1", "--feature-loss", "cosine",
            "--data", Data(), "--out", outDir, "--steps", "2", "--save-every", "1", "--batch", "2", "--seq-len", "64", "-t", "1"];
        var run = CliRunner.Run(args);
        Assert.True(run.ExitCode == 0, run.Err);
        Assert.Contains("done: 2 steps", run.Out);
        var state = File.ReadAllText(Path.Combine(outDir, "checkpoints", File.ReadAllText(Path.Combine(outDir, "checkpoints", "latest")).Trim(), "state.json"));
        Assert.Contains("\"FeatureLayers\": \"0:1\"", state);
        var again = CliRunner.Run([.. args, "--resume"]);
        Assert.True(again.ExitCode == 0, again.Err);

        var noTeacher = CliRunner.Run("distill", "train", "--student", Fixtures.Path("qwen2-micro", "hf"), "--data", Data(), "--out", Path.Combine(_dir, "f"),
            "--feature-layers", "0:1");
        Assert.Equal(1, noTeacher.ExitCode);
        Assert.StartsWith("error: --feature-layers needs --teacher", noTeacher.Err);
    }

    [Fact]
    public void TeacherWeightsMustMatchTheTeachers()
    {
        var (code, _, err) = CliRunner.Run("distill", "train", "--student", Fixtures.Path("qwen2-micro", "hf"), "--data", Data(),
            "--out", Path.Combine(_dir, "w"), "--loss", "kd", "--teacher", Fixtures.Path("qwen2-tiny", "hf"), "--teacher-weights", "0.7,0.3");
        Assert.Equal(1, code);
        Assert.StartsWith("error: --teacher-weights has 2 values for 1 teachers", err);
    }

    [Fact]
    public void MalformedLineStopsWithItsLineNumber()
    {
        string data = Data("{\"prompt\": 3, \"completion\": \"x\"}");
        var (code, _, err) = CliRunner.Run("distill", "train", "--student", Fixtures.Path("qwen2-micro", "hf"), "--data", data,
            "--out", Path.Combine(_dir, "bad"), "--steps", "1");
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {data}:13: \"prompt\" must be a string", err);
    }

    [Fact]
    public void TeacherLossWithoutTeacherIsAnError()
    {
        var (code, _, err) = CliRunner.Run("distill", "train", "--student", Fixtures.Path("qwen2-micro", "hf"), "--data", Data(),
            "--out", Path.Combine(_dir, "x"), "--loss", "jsd");
        Assert.Equal(1, code);
        Assert.Equal("error: --loss jsd needs --teacher (or --teacher-logits)", err.Trim());
    }
}
