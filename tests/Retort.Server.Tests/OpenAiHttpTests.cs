using System.Text.Json.Nodes;
using Retort.Tests.Support;

namespace Retort.Server.Tests;

/// <summary>The OpenAI endpoints at the HTTP level: SSE framing and response fields.</summary>
[Collection("server")]
public sealed class OpenAiHttpTests(ServerFixture fixture)
{
    [Fact]
    public async Task Streaming_chat_is_framed_as_server_sent_events()
    {
        var (response, text) = await Http.PostStreamAsync(fixture.Http, "/v1/chat/completions", new
        {
            model = ServerFixture.ModelId,
            messages = new[] { new { role = "user", content = "甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。" } },
            stream = true, max_tokens = 20, seed = 11, temperature = 0.7,
        });
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var (events, done) = Http.ParseSse(text);
        Assert.True(done);
        Assert.True(events.Count >= 2);
        string id = events[0]["id"]!.GetValue<string>();
        foreach (var e in events)
        {
            Assert.Equal(id, e["id"]!.GetValue<string>());
            Assert.Equal("chat.completion.chunk", e["object"]!.GetValue<string>());
            Assert.Equal(ServerFixture.ModelId, e["model"]!.GetValue<string>());
            Assert.Equal(0, e["choices"]![0]!["index"]!.GetValue<int>());
        }
        Assert.Equal("assistant", events[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        var last = events[^1];
        string finish = last["choices"]![0]!["finish_reason"]!.GetValue<string>();
        int completion = last["usage"]!["completion_tokens"]!.GetValue<int>();
        int prompt = last["usage"]!["prompt_tokens"]!.GetValue<int>();
        Assert.Equal(prompt + completion, last["usage"]!["total_tokens"]!.GetValue<int>());
        if (finish == "length") Assert.Equal(20, completion);
        else Assert.Equal("stop", finish);
        foreach (var e in events[1..^1])
        {
            var delta = e["choices"]![0]!["delta"]!.AsObject();
            Assert.Single(delta);
            Assert.True(delta.ContainsKey("content") || delta.ContainsKey("reasoning_content"));
            Assert.Null(e["choices"]![0]!["finish_reason"]);
        }
    }

    [Fact]
    public async Task Streamed_text_equals_the_non_streamed_answer_for_the_same_seed()
    {
        object Body(bool stream) => new
        {
            messages = new[] { new { role = "user", content = "hi" } },
            stream, max_tokens = 16, seed = 5, temperature = 1.0,
        };
        var (status, whole) = await Http.PostAsync(fixture.Http, "/v1/chat/completions", Body(false));
        Assert.Equal(200, status);
        var message = whole["choices"]![0]!["message"]!;
        var (_, text) = await Http.PostStreamAsync(fixture.Http, "/v1/chat/completions", Body(true));
        var (events, _) = Http.ParseSse(text);
        string content = string.Concat(events.Select(e => (string?)e["choices"]![0]!["delta"]!["content"] ?? ""));
        string reasoning = string.Concat(events.Select(e => (string?)e["choices"]![0]!["delta"]!["reasoning_content"] ?? ""));
        Assert.Equal(message["content"]!.GetValue<string>(), content.Trim());
        Assert.Equal((string?)message["reasoning_content"] ?? "", reasoning.Trim());
    }

    [Fact]
    public async Task Completions_take_a_raw_prompt()
    {
        var (status, body) = await Http.PostAsync(fixture.Http, "/v1/completions",
            new { model = ServerFixture.ModelId, prompt = "Once upon a time", max_tokens = 8, seed = 1, stop = new[] { "zzzz" } });
        Assert.Equal(200, status);
        Assert.Equal("text_completion", body["object"]!.GetValue<string>());
        Assert.IsType<string>(body["choices"]![0]!["text"]!.GetValue<string>());
        Assert.InRange(body["usage"]!["prompt_tokens"]!.GetValue<int>(), 1, 64);
        var (_, text) = await Http.PostStreamAsync(fixture.Http, "/v1/completions",
            new { prompt = "Once upon a time", max_tokens = 8, seed = 1, stream = true });
        var (events, done) = Http.ParseSse(text);
        Assert.True(done);
        Assert.All(events, e => Assert.Equal("text_completion", e["object"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Health_says_ok()
    {
        var (status, body) = await Http.GetAsync(fixture.Http, "/health");
        Assert.Equal(200, status);
        Assert.Equal("ok", body["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Metrics_are_prometheus_text_and_count_requests()
    {
        await fixture.Http.GetStringAsync("/v1/models");
        string text = await fixture.Http.GetStringAsync("/metrics");
        Assert.Contains("# TYPE retort_requests_total counter", text);
        Assert.Matches("retort_requests_total\\{endpoint=\"/v1/models\"\\} [1-9]", text);
        Assert.Equal(8, await Http.MetricAsync(fixture.Http, "retort_slots_total"));
        Assert.True(await Http.MetricAsync(fixture.Http, "process_resident_memory_bytes") > 1_000_000);
        Assert.True(await Http.MetricAsync(fixture.Http, "retort_queue_depth") >= 0);
    }

    [Fact]
    public async Task Chat_page_is_served_offline_with_the_examples()
    {
        using var response = await fixture.Http.GetAsync("/");
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        string html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<title>Retort</title>", html);
        Assert.Contains("甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。", html);
        Assert.Contains("写一个 Python 函数判断回文字符串。", html);
        Assert.Contains("如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？", html);
        Assert.Contains("/v1/chat/completions", html);
        Assert.Contains("createElement(\"details\")", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("http://", html);
    }
}
