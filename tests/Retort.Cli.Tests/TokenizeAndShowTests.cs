using System.Text.Json;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

public sealed class TokenizeAndShowTests
{
    [Theory]
    [InlineData("gguf/qwen2-micro-f32.gguf")]
    [InlineData("hf")]
    public void TokenizePrintsTheReferenceIds(string source)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("qwen2-micro", "reference", "tokenizer.json")));
        foreach (var entry in doc.RootElement.GetProperty("tokenization").EnumerateArray().Where(e => e.GetProperty("text").GetString() != ""))
        {
            string text = entry.GetProperty("text").GetString()!;
            int[] expected = entry.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var (code, stdout, stderr) = CliRunner.Run("tokenize", Fixtures.Path("qwen2-micro", source), text, "--json");
            Assert.True(code == 0, stderr);
            Assert.Equal(expected, JsonSerializer.Deserialize<int[]>(stdout));
            var plain = CliRunner.Run("tokenize", Fixtures.Path("qwen2-micro", source), text);
            Assert.Equal(string.Join(' ', expected), plain.Out.Trim());
        }
    }

    [Theory]
    [InlineData("gguf/qwen2-tiny-q8_0.gguf", "Q8_0")]
    [InlineData("hf", "F32")]
    public void ShowReportsTheConfigFromTheFiles(string source, string mainType)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("qwen2-tiny", "hf", "config.json")));
        var c = config.RootElement;
        var (code, stdout, stderr) = CliRunner.Run("show", Fixtures.Path("qwen2-tiny", source), "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        Assert.Equal("qwen2", r.GetProperty("architecture").GetString());
        Assert.Equal(c.GetProperty("hidden_size").GetInt32(), r.GetProperty("hidden_size").GetInt32());
        Assert.Equal(c.GetProperty("num_hidden_layers").GetInt32(), r.GetProperty("layers").GetInt32());
        Assert.Equal(c.GetProperty("num_attention_heads").GetInt32(), r.GetProperty("attention_heads").GetInt32());
        Assert.Equal(c.GetProperty("num_key_value_heads").GetInt32(), r.GetProperty("kv_heads").GetInt32());
        Assert.Equal(c.GetProperty("vocab_size").GetInt32(), r.GetProperty("vocab_size").GetInt32());
        Assert.Equal(c.GetProperty("eos_token_id").GetInt32(), r.GetProperty("eos_token").GetProperty("id").GetInt32());
        Assert.Equal(mainType, r.GetProperty("tensor_types").EnumerateObject().First().Name);
        Assert.Contains("<｜Assistant｜>", r.GetProperty("chat_template").GetString());

        var table = CliRunner.Run("show", Fixtures.Path("qwen2-tiny", source));
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("architecture", table.Out);
        Assert.Contains("qwen2", table.Out);
    }

    [Fact]
    public void AChatTemplateFileOverridesTheModels()
    {
        string file = Path.Combine(Path.GetTempPath(), $"retort-template-{Guid.NewGuid():N}.jinja");
        File.WriteAllText(file, "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}");
        try
        {
            var (code, stdout, stderr) = CliRunner.Run("run", Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"),
                "-p", "hi", "--chat-template", file, "--temp", "0", "-n", "1", "--json");
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            var tok = CliRunner.Run("tokenize", Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"), "[user] hi\n[assistant] ", "--json");
            Assert.Equal(JsonSerializer.Deserialize<int[]>(tok.Out),
                doc.RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
