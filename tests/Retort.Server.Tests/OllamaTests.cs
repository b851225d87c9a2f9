using System.Text.Json;
using System.Text.Json.Nodes;
using Retort.Tests.Support;

namespace Retort.Server.Tests;

/// <summary>The Ollama endpoints, field by field.</summary>
[Collection("server")]
public sealed class OllamaTests(ServerFixture fixture)
{
    private static List<JsonObject> ParseNdjson(string text)
    {
        Assert.EndsWith("\n", text);
        return text.TrimEnd('\n').Split('\n').Select(line => JsonNode.Parse(line)!.AsObject()).ToList();
    }

    private static void AssertFinal(JsonObject o, int maxTokens)
    {
        Assert.True(o["done"]!.GetValue<bool>());
        string reason = o["done_reason"]!.GetValue<string>();
        int eval = o["eval_count"]!.GetValue<int>();
        if (reason == "length") Assert.Equal(maxTokens, eval);
        else Assert.Equal("stop", reason);
        Assert.True(o["prompt_eval_count"]!.GetValue<int>() > 0);
        long total = o["total_duration"]!.GetValue<long>();
        long evalDuration = o["eval_duration"]!.GetValue<long>();
        long promptDuration = o["prompt_eval_duration"]!.GetValue<long>();
        Assert.True(evalDuration > 0 && promptDuration > 0);
        // Nanoseconds: the whole request took longer than its generation, and less than a minute.
        Assert.InRange(total, evalDuration, 60_000_000_000L);
        Assert.True(DateTime.TryParse(o["created_at"]!.GetValue<string>(), out _));
    }

    [Fact]
    public async Task Chat_without_streaming_is_one_object()
    {
        var (status, o) = await Http.PostAsync(fixture.Http, "/api/chat", new
        {
            model = ServerFixture.ModelId + ":latest",
            messages = new[] { new { role = "user", content = "如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？" } },
            stream = false, think = true, options = new { num_predict = 10, seed = 4, temperature = 0.5, top_k = 40, top_p = 0.9, stop = new[] { "\n\n\n" } },
        });
        Assert.Equal(200, status);
        Assert.Equal(ServerFixture.ModelId + ":latest", o["model"]!.GetValue<string>());
        var message = o["message"]!.AsObject();
        Assert.Equal("assistant", message["role"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.String, message["content"]!.GetValueKind());
        AssertFinal(o, 10);
    }

    [Fact]
    public async Task Chat_streams_ndjson_and_ends_with_done()
    {
        var (response, text) = await Http.PostStreamAsync(fixture.Http, "/api/chat", new
        {
            model = ServerFixture.ModelId,
            messages = new[] { new { role = "user", content = "hi" } },
            think = true, options = new { num_predict = 12, seed = 9 },
        });
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var lines = ParseNdjson(text);
        Assert.True(lines.Count >= 2);
        foreach (var line in lines[..^1])
        {
            Assert.False(line["done"]!.GetValue<bool>());
            var message = line["message"]!.AsObject();
            Assert.Equal("assistant", message["role"]!.GetValue<string>());
            // With think, each piece is either thinking or content, never both.
            bool thinking = message.ContainsKey("thinking");
            Assert.True(thinking ? message["content"]!.GetValue<string>() == "" : message["content"]!.GetValue<string>().Length > 0);
        }
        AssertFinal(lines[^1], 12);
    }

    [Fact]
    public async Task Without_think_the_reasoning_stays_in_the_content_between_tags()
    {
        var (status, o) = await Http.PostAsync(fixture.Http, "/api/generate",
            new { model = ServerFixture.ModelId, prompt = "hi", stream = false, options = new { num_predict = 8, seed = 2 } });
        Assert.Equal(200, status);
        Assert.False(o.ContainsKey("thinking"));
        Assert.Equal(JsonValueKind.String, o["response"]!.GetValueKind());
        AssertFinal(o, 8);
    }

    [Fact]
    public async Task Generate_streams_with_response_pieces()
    {
        var (_, text) = await Http.PostStreamAsync(fixture.Http, "/api/generate",
            new { model = ServerFixture.ModelId, prompt = "写一个 Python 函数判断回文字符串。", think = true, options = new { num_predict = 10, seed = 8 } });
        var lines = ParseNdjson(text);
        foreach (var line in lines[..^1])
        {
            Assert.False(line["done"]!.GetValue<bool>());
            Assert.Equal(JsonValueKind.String, line["response"]!.GetValueKind());
        }
        AssertFinal(lines[^1], 10);
        var (_, raw) = await Http.PostStreamAsync(fixture.Http, "/api/generate",
            new { prompt = "Once upon a time", raw = true, options = new { num_predict = 5, seed = 8 } });
        AssertFinal(ParseNdjson(raw)[^1], 5);
    }

    [Fact]
    public async Task Tags_show_and_version_describe_the_model()
    {
        var (status, tags) = await Http.GetAsync(fixture.Http, "/api/tags");
        Assert.Equal(200, status);
        var model = Assert.Single(tags["models"]!.AsArray())!.AsObject();
        Assert.Equal(ServerFixture.ModelId + ":latest", model["name"]!.GetValue<string>());
        Assert.Equal(ServerFixture.ModelId + ":latest", model["model"]!.GetValue<string>());
        Assert.Equal(new FileInfo(ServerFixture.ModelPath).Length, model["size"]!.GetValue<long>());
        Assert.Equal("gguf", model["details"]!["format"]!.GetValue<string>());
        Assert.Equal("qwen2", model["details"]!["family"]!.GetValue<string>());
        Assert.Equal("Q8_0", model["details"]!["quantization_level"]!.GetValue<string>());

        var (showStatus, show) = await Http.PostAsync(fixture.Http, "/api/show", new { model = ServerFixture.ModelId });
        Assert.Equal(200, showStatus);
        Assert.Equal("qwen2", show["model_info"]!["general.architecture"]!.GetValue<string>());
        Assert.Equal(fixture.Model.ParameterCount, show["model_info"]!["general.parameter_count"]!.GetValue<long>());
        Assert.Equal(fixture.Model.Config.ContextLength, show["model_info"]!["qwen2.context_length"]!.GetValue<int>());
        Assert.Contains("thinking", show["capabilities"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(show["template"]!.GetValue<string>()));

        var (versionStatus, version) = await Http.GetAsync(fixture.Http, "/api/version");
        Assert.Equal(200, versionStatus);
        Assert.Matches("^\\d+\\.\\d+\\.\\d+", version["version"]!.GetValue<string>());
    }
}
