using System.Text.Json.Nodes;
using Retort.Tests.Support;

namespace Retort.Server.Tests;

/// <summary>Several streaming clients at once, and clients that leave mid-stream.</summary>
[Collection("server")]
public sealed class ConcurrencyTests(ServerFixture fixture)
{
    [Fact]
    public async Task Eight_concurrent_streams_all_finish_with_the_requested_tokens()
    {
        const int maxTokens = 24;
        var tasks = Enumerable.Range(0, 8).Select(async i =>
        {
            var (_, text) = await Http.PostStreamAsync(fixture.Http, "/v1/chat/completions", new
            {
                messages = new[] { new { role = "user", content = $"client {i}: 写一个 Python 函数判断回文字符串。" } },
                stream = true, max_tokens = maxTokens, seed = 100 + i, temperature = 0.9,
            });
            return Http.ParseSse(text);
        }).ToArray();
        var results = await Task.WhenAll(tasks);
        foreach (var (events, done) in results)
        {
            Assert.True(done);
            var last = events[^1];
            string finish = last["choices"]![0]!["finish_reason"]!.GetValue<string>();
            int completion = last["usage"]!["completion_tokens"]!.GetValue<int>();
            if (finish == "length") Assert.Equal(maxTokens, completion);
            else Assert.Equal("stop", finish);
        }
        await Concurrency.WaitForIdleAsync(fixture.Http);
    }

    [Fact]
    public async Task Clients_that_disconnect_mid_stream_free_their_slots()
    {
        // Long answers (4000 tokens each) that only cancellation can end in time.
        const int maxTokens = 4000;
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 6, QueueLength = 0, ContextSize = 4096 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var tasks = Enumerable.Range(0, 6).Select(async i =>
        {
            // No draining on dispose (see LoadTests): the client really hangs up, however fast the server is.
            using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.BaseAddress };
            using var request = new HttpRequestMessage(HttpMethod.Post, i % 2 == 0 ? "/v1/chat/completions" : "/api/chat")
            {
                Content = Http.JsonBody(new
                {
                    model = ServerFixture.ModelId,
                    messages = new[] { new { role = "user", content = $"long answer {i}" } },
                    stream = true, max_tokens = maxTokens, ignore_eos = true, options = new { num_predict = maxTokens, ignore_eos = true },
                }),
            };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            // Read a few messages, then hang up.
            for (int n = 0; n < 3; n++) Assert.NotNull(await reader.ReadLineAsync());
        }).ToArray();
        await Task.WhenAll(tasks);
        await Concurrency.WaitForIdleAsync(http);
        Assert.Equal(6, await Http.MetricAsync(http, "retort_cancelled_generations_total"));
        long generated = await Http.MetricAsync(http, "retort_completion_tokens_total");
        Assert.True(generated < 6 * maxTokens, $"{generated} tokens were generated for clients that had left");
    }

    [Fact]
    public async Task A_queued_request_runs_when_a_slot_frees()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 1, QueueLength = 4, ContextSize = 256 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var all = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Http.PostAsync(http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = $"q{i}" } }, max_tokens = 6, seed = i })));
        Assert.All(all, r => Assert.Equal(200, r.Status));
        Assert.All(all, r => Assert.InRange(r.Body["usage"]!["completion_tokens"]!.GetValue<int>(), 0, 6));
        await Concurrency.WaitForIdleAsync(http);
        Assert.Equal(0, await Http.MetricAsync(http, "retort_rejected_requests_total"));
    }

    [Fact]
    public async Task Interleaved_slots_give_the_same_text_as_one_request_alone()
    {
        object Body(int i) => new
        {
            messages = new[] { new { role = "user", content = $"seeded {i}" } },
            max_tokens = 20, seed = 1000 + i, temperature = 1.0,
        };
        static string Text(JsonObject body) =>
            body["choices"]![0]!["message"]!.ToJsonString() + body["choices"]![0]!["finish_reason"]!.GetValue<string>();

        var alone = new List<string>();
        for (int i = 0; i < 4; i++) alone.Add(Text((await Http.PostAsync(fixture.Http, "/v1/chat/completions", Body(i))).Body));
        var together = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Http.PostAsync(fixture.Http, "/v1/chat/completions", Body(i))));
        Assert.Equal(alone, together.Select(r => Text(r.Body)));
    }

    [Fact]
    public async Task A_returning_conversation_reuses_its_slot_cache()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 2, QueueLength = 2, ContextSize = 256 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        async Task<(string Answer, int Prompt, int Cached)> Turn(object[] messages)
        {
            var (status, body) = await Http.PostAsync(http, "/v1/chat/completions", new { messages, max_tokens = 6, seed = 1 });
            Assert.Equal(200, status);
            var usage = body["usage"]!;
            return (body["choices"]![0]!["message"]!["content"]!.GetValue<string>(), usage["prompt_tokens"]!.GetValue<int>(),
                usage["prompt_tokens_details"]!["cached_tokens"]!.GetValue<int>());
        }

        var a1 = await Turn([new { role = "user", content = "conversation A: 甲乙两人轮流掷骰子" }]);
        Assert.Equal(0, a1.Cached);
        // Another conversation meanwhile takes the other slot, or would evict A's cache if it shared it.
        var b1 = await Turn([new { role = "user", content = "B: 完全不同的话题" }]);
        var a2 = await Turn(
        [
            new { role = "user", content = "conversation A: 甲乙两人轮流掷骰子" },
            new { role = "assistant", content = a1.Answer },
            new { role = "user", content = "再说一遍" },
        ]);
        // A's second turn starts with its first prompt (less the generation prompt's opening of the
        // reasoning, which the template renders differently for a finished turn): that comes from the cache.
        Assert.True(a2.Cached >= a1.Prompt - 3, $"only {a2.Cached} of {a2.Prompt} prompt tokens were cached (first turn had {a1.Prompt})");
        Assert.True(b1.Prompt > 0);
    }

    [Fact]
    public async Task A_client_that_leaves_the_queue_is_forgotten()
    {
        // The holder's 4000 tokens outlast the test unless it hangs up.
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 1, QueueLength = 2, ContextSize = 4096 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var holder = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Http.JsonBody(new { messages = new[] { new { role = "user", content = "hi" } }, stream = true, max_tokens = 4000, ignore_eos = true }),
        };
        var holding = await http.SendAsync(holder, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await holding.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());

        using var leave = new CancellationTokenSource();
        var waiting = http.PostAsync("/v1/chat/completions",
            Http.JsonBody(new { messages = new[] { new { role = "user", content = "later" } }, max_tokens = 2 }), leave.Token);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await Http.MetricAsync(http, "retort_queue_depth") != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the second request never queued");
            await Task.Delay(20);
        }
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        deadline = DateTime.UtcNow.AddSeconds(20);
        while (await Http.MetricAsync(http, "retort_queue_depth") != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the request that left stayed queued");
            await Task.Delay(20);
        }
        Assert.Equal(1, await Http.MetricAsync(http, "retort_slots_busy"));
        holding.Dispose();
        await Concurrency.WaitForIdleAsync(http);
    }

    [Fact]
    public async Task Stopping_the_server_ends_open_streams_promptly()
    {
        var server = await fixture.StartAsync(new ServerOptions { Parallel = 2, QueueLength = 0, ContextSize = 4096 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Http.JsonBody(new { messages = new[] { new { role = "user", content = "hi" } }, stream = true, max_tokens = 4000, ignore_eos = true }),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"stopping took {clock.Elapsed}");
        // The stream ends (cut short, with its final chunk and [DONE]) instead of running 4000 tokens.
        string rest = await reader.ReadToEndAsync();
        Assert.EndsWith("data: [DONE]\n\n", rest);
    }
}
