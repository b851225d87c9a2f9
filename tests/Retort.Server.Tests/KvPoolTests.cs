using System.Net;
using System.Text.Json.Nodes;
using Retort.Engine.Model;
using Retort.Tests.Support;
using EngineMessage = Retort.Engine.Templates.ChatMessage;

namespace Retort.Server.Tests;

/// <summary>
/// The slots' shared KV page pool: memory follows the tokens in use, a request is admitted only with the pages
/// it may grow to, waits for them in the queue (or gets 429 when the queue is full, 400 when it could never fit),
/// and every page and reservation comes back, whichever way a request ends.
/// </summary>
[Collection("server")]
public sealed class KvPoolTests(ServerFixture fixture)
{
    /// <summary>qwen2-tiny with f32 keys and values: 2 layers · 2 KV heads · (64 + 64) floats · 4 bytes = 2048 bytes a position, 512 KiB a page of 256.</summary>
    private const long PageBytes = 2048 * 256;

    private static object Chat(string text, int maxTokens, bool stream = false, bool ignoreEos = false) => new
    {
        messages = new[] { new { role = "user", content = text } }, max_tokens = maxTokens, stream, ignore_eos = ignoreEos,
    };

    /// <summary>A streaming request that holds its slot and pages until disposed (its tokens outlast any test), read until it has begun.</summary>
    private static async Task<HttpResponseMessage> HoldAsync(HttpClient http, int maxTokens)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Http.JsonBody(Chat("hold", maxTokens, true, true)) };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());
        return response;
    }

    private static async Task WaitForAsync(HttpClient http, string metric, long value, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await Http.MetricAsync(http, metric) != value)
        {
            Assert.True(DateTime.UtcNow < deadline, what);
            await Task.Delay(20);
        }
    }

    /// <summary>No page or promise is left behind: the pool's reservations are exactly the idle caches' pages, and dropping those empties it.</summary>
    private static async Task AssertNothingLeaksAsync(RetortServer server, HttpClient http)
    {
        // A response can be complete a moment before the scheduler frees its slot.
        await Concurrency.WaitForIdleAsync(http);
        var slots = server.State.Service.Pool;
        var pages = slots.Pages;
        Assert.Equal(0, slots.Busy);
        Assert.Equal(slots.Slots.Sum(s => s.Generator.Cache.PageCount), pages.InUse);
        Assert.Equal(pages.InUse, pages.Reserved);
        Assert.Equal(pages.InUse, slots.CachedPages);
        slots.DropCachedPrefixes();
        Assert.Equal(0, pages.InUse);
        Assert.Equal(0, pages.Reserved);
    }

    [Fact]
    public async Task Four_slots_at_a_large_context_hold_pages_for_the_tokens_used_not_four_full_caches()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 4, QueueLength = 4, ContextSize = 4096 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var all = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Http.PostAsync(http, "/v1/chat/completions", Chat($"short {i}", 8, ignoreEos: true))));
        Assert.All(all, r => Assert.Equal(200, r.Status));
        await Concurrency.WaitForIdleAsync(http);

        var slots = server.State.Service.Pool;
        var pages = slots.Pages;
        Assert.All(slots.Slots, s => Assert.Same(pages, s.Generator.Cache.Pool));
        Assert.Equal(PageBytes, pages.PageBytes);
        // The pool may grow to four full contexts (16 pages each) on this machine's budget ...
        Assert.Equal(4 * 16, pages.MaxPages);
        // ... but each short conversation (a few dozen positions) took one page, where four full caches would be 64.
        int used = slots.Slots.Count(s => s.Generator.Cache.Length > 0);
        Assert.InRange(used, 1, 4);
        Assert.All(slots.Slots.Where(s => s.Generator.Cache.Length > 0), s => Assert.InRange(s.Generator.Cache.Length, 1, 256));
        Assert.Equal(used, pages.InUse);
        Assert.InRange(pages.AllocatedBytes, PageBytes, 4 * PageBytes);
        Assert.Equal(pages.AllocatedBytes, await Http.MetricAsync(http, "retort_kv_allocated_bytes"));
        Assert.Equal(64, await Http.MetricAsync(http, "retort_kv_pages_total"));
        Assert.Equal(used, await Http.MetricAsync(http, "retort_kv_pages_in_use"));
        Assert.Equal(used, await Http.MetricAsync(http, "retort_kv_pages_reserved"));
        Assert.Equal(used, await Http.MetricAsync(http, "retort_kv_pages_cached"));
        Assert.Equal(PageBytes, await Http.MetricAsync(http, "retort_kv_page_bytes"));
        Assert.Equal(64 * PageBytes, await Http.MetricAsync(http, "retort_kv_budget_bytes"));
        await AssertNothingLeaksAsync(server, http);
    }

    [Fact]
    public async Task A_request_that_cannot_get_pages_waits_in_the_queue_and_completes_when_they_free()
    {
        // 16 pages: one full context. The holder may grow to all of them (4000 tokens), so a second request waits
        // although a slot is free.
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 2, QueueLength = 2, ContextSize = 4096, KvBudgetBytes = 16 * PageBytes });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var holder = await HoldAsync(http, 4000);
        Assert.Equal(16, server.State.Service.Pool.Pages.Reserved);

        var waiting = Http.PostAsync(http, "/v1/chat/completions", Chat("later", 4));
        await WaitForAsync(http, "retort_queue_depth", 1, "the second request never queued");
        Assert.Equal(1, await Http.MetricAsync(http, "retort_slots_busy"));
        Assert.False(waiting.IsCompleted);

        holder.Dispose();
        var (status, body) = await waiting.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(200, status);
        Assert.InRange(body["usage"]!["completion_tokens"]!.GetValue<int>(), 1, 4);
        await Concurrency.WaitForIdleAsync(http);
        await AssertNothingLeaksAsync(server, http);
    }

    [Fact]
    public async Task With_the_pages_taken_and_the_queue_full_a_request_gets_429()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 2, QueueLength = 0, ContextSize = 4096, KvBudgetBytes = 16 * PageBytes });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var holder = await HoldAsync(http, 4000);
        using var busy = await http.PostAsync("/v1/chat/completions", Http.JsonBody(Chat("later", 4)));
        Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
        Assert.NotNull(busy.Headers.RetryAfter);
        var error = JsonNode.Parse(await busy.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("server_busy", error["code"]!.GetValue<string>());
        Assert.Contains("KV cache pages", error["message"]!.GetValue<string>());
        Assert.Equal(1, await Http.MetricAsync(http, "retort_slots_busy"));

        holder.Dispose();
        await Concurrency.WaitForIdleAsync(http);
        Assert.Equal(200, (await Http.PostAsync(http, "/v1/chat/completions", Chat("later", 4))).Status);
        await AssertNothingLeaksAsync(server, http);
    }

    [Fact]
    public async Task A_request_larger_than_the_whole_pool_is_400_naming_the_sizes()
    {
        // Two pages (512 positions) for a 4096 context.
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 1, ContextSize = 4096, KvBudgetBytes = 2 * PageBytes });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(2, server.State.Service.Pool.Pages.MaxPages);

        var (status, body) = await Http.PostAsync(http, "/v1/chat/completions", Chat("too long an answer", 1000));
        Assert.Equal(400, status);
        var error = body["error"]!;
        Assert.Equal("context_length_exceeded", error["code"]!.GetValue<string>());
        string message = error["message"]!.GetValue<string>();
        Assert.Contains("up to 1000 generated", message);
        Assert.Contains("the server's KV pool holds 2 pages (512 tokens", message);

        using var ollama = await http.PostAsync("/api/generate", Http.JsonBody(new { prompt = "hi", stream = false, options = new { num_predict = 1000 } }));
        Assert.Equal(HttpStatusCode.BadRequest, ollama.StatusCode);
        Assert.Contains("holds 2 pages", JsonNode.Parse(await ollama.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());

        // What fits runs.
        Assert.Equal(200, (await Http.PostAsync(http, "/v1/chat/completions", Chat("a short one", 100))).Status);
        await AssertNothingLeaksAsync(server, http);
    }

    [Fact]
    public async Task An_idle_slots_cached_prefix_gives_way_to_a_request_that_needs_its_pages()
    {
        // Four pages, one 1024 context; the first conversation keeps two of them cached on its slot.
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 2, QueueLength = 2, ContextSize = 1024, KvBudgetBytes = 4 * PageBytes });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var slots = server.State.Service.Pool;
        var first = await Http.PostAsync(http, "/v1/chat/completions", Chat("first", 300, ignoreEos: true));
        Assert.Equal(200, first.Status);
        var cachedSlot = Assert.Single(slots.Slots, s => s.Generator.Cache.Length > 0);
        Assert.Equal(2, cachedSlot.Generator.Cache.PageCount);
        Assert.Equal(2, slots.Pages.Reserved);

        // A prompt of over 768 tokens needs all four pages.
        string text = "another";
        while (server.State.Service.ChatPrompt([new EngineMessage("user", text)]).Tokens.Length <= 3 * KvCache.PageSize) text += " word";
        var second = await Http.PostAsync(http, "/v1/chat/completions", Chat(text, 8));
        Assert.Equal(200, second.Status);
        Assert.True(second.Body["usage"]!["prompt_tokens"]!.GetValue<int>() > 3 * KvCache.PageSize);
        // The other slot ran it (the first conversation's prefix is not its own), so the first one's cache was dropped for its pages.
        Assert.Equal(0, cachedSlot.Generator.Cache.Length);
        Assert.Empty(cachedSlot.Generator.CachedTokens);
        Assert.Equal(4, slots.Pages.InUse);
        await AssertNothingLeaksAsync(server, http);
    }

    [Fact]
    public async Task After_many_requests_including_cancelled_and_abandoned_ones_every_reservation_comes_back()
    {
        // 24 pages for three slots at 16 pages a full context: the long streams queue for pages.
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = 3, QueueLength = 16, ContextSize = 4096, KvBudgetBytes = 24 * PageBytes });
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };

        async Task LeaveMidStream(int i)
        {
            using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.BaseAddress };
            using var request = new HttpRequestMessage(HttpMethod.Post, i % 2 == 0 ? "/v1/chat/completions" : "/api/chat")
            {
                Content = Http.JsonBody(new
                {
                    messages = new[] { new { role = "user", content = $"long answer {i}" } },
                    stream = true, max_tokens = 4000, ignore_eos = true, options = new { num_predict = 4000, ignore_eos = true },
                }),
            };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            for (int n = 0; n < 3; n++) Assert.NotNull(await reader.ReadLineAsync());
        }

        async Task Abandon(int i)
        {
            using var leave = new CancellationTokenSource(TimeSpan.FromMilliseconds(100 + 50 * i));
            try
            {
                using var response = await http.PostAsync("/v1/chat/completions", Http.JsonBody(Chat($"abandoned {i}", 2000, ignoreEos: true)), leave.Token);
            }
            catch (OperationCanceledException)
            {
                // Left while queued or while generating: either way its pages must come back.
            }
        }

        async Task Finish(int i)
        {
            var (status, _) = await Http.PostAsync(http, "/v1/chat/completions", Chat($"short {i}", 6));
            Assert.Equal(200, status);
        }

        var work = Enumerable.Range(0, 6).Select(LeaveMidStream)
            .Concat(Enumerable.Range(0, 4).Select(Abandon))
            .Concat(Enumerable.Range(0, 6).Select(Finish));
        await Task.WhenAll(work);
        await Concurrency.WaitForIdleAsync(http, seconds: 60);
        Assert.True(await Http.MetricAsync(http, "retort_cancelled_generations_total") >= 6);
        await AssertNothingLeaksAsync(server, http);
        Assert.Equal(0, await Http.MetricAsync(http, "retort_kv_pages_reserved"));
    }

    [Fact]
    public async Task The_start_up_log_states_the_context_and_the_pool()
    {
        var log = new StringWriter();
        await using (var server = new RetortServer(fixture.Model, new ServerOptions { Port = 0, Parallel = 4, ContextSize = 8192, KvBudgetBytes = 8 * PageBytes }, log))
        {
            await server.StartAsync();
        }
        string text = log.ToString();
        Assert.Contains("warning: --ctx 8192 is above the 4096 positions the model was trained on", text);
        Assert.Contains("context 8192 (--ctx, above the 4 MiB KV budget (--kv-budget)), KV cache f32 up to 16 MiB", text);
        Assert.Contains("KV pool shared by 4 slot(s): up to 8 pages of 256 positions (2048 tokens, 4 MiB); a request can hold at most 2048 tokens", text);
    }
}
