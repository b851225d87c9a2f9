using System.Text.Json.Nodes;
using Retort.Engine.Generation;
using Retort.Engine.Sampling;
using EngineMessage = Retort.Engine.Templates.ChatMessage;

namespace Retort.Server.Tests;

/// <summary>
/// Sixteen streaming clients at once (plus some that hang up mid-stream): every answer is complete and
/// equals what the model says to that prompt alone, their decode steps were batched, and no slot stays busy.
/// </summary>
[Collection("server")]
public sealed class LoadTests(ServerFixture fixture)
{
    private const int Clients = 16;
    private const int Leavers = 4;
    private const int MaxTokens = 40;

    private static readonly string[] Questions =
    [
        "甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。",
        "写一个 Python 函数判断回文字符串。",
        "如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？",
    ];

    private static string Question(int i) => $"{i}: {Questions[i % Questions.Length]}";

    [Fact]
    public async Task Sixteen_streaming_clients_get_complete_answers_from_batched_steps()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = Clients, QueueLength = Leavers, ContextSize = 2048 });
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };

        // What each prompt gives alone, through the one-sequence path (Generator, no batching).
        var promptBuilder = new InferenceService(fixture.Model, 1, 256, 0);
        var greedy = SamplingOptions.Greedy with { MaxTokens = MaxTokens, IgnoreEos = true };
        var alone = Enumerable.Range(0, Clients).Select(i =>
        {
            var prompt = promptBuilder.ChatPrompt([new EngineMessage("user", Question(i))]);
            return new Generator(fixture.Model, 256).Generate(prompt.Tokens, greedy, ReasoningSplitter.PromptOpensReasoning(prompt.Text));
        }).ToArray();
        Assert.All(alone, r => Assert.Equal(MaxTokens, r.Tokens.Count));

        var answers = Enumerable.Range(0, Clients).Select(i => Http.PostStreamAsync(http, "/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = Question(i) } },
            stream = true, max_tokens = MaxTokens, ignore_eos = true, temperature = 0,
        })).ToArray();
        var leavers = Enumerable.Range(0, Leavers).Select(i => LeaveMidStreamAsync(server.BaseAddress!, i)).ToArray();
        await Task.WhenAll(leavers);
        var streams = await Task.WhenAll(answers);

        for (int i = 0; i < Clients; i++)
        {
            var (events, done) = Http.ParseSse(streams[i].Text);
            Assert.True(done, $"client {i}: no [DONE]");
            var last = events[^1];
            Assert.Equal("length", last["choices"]![0]!["finish_reason"]!.GetValue<string>());
            Assert.Equal(MaxTokens, last["usage"]!["completion_tokens"]!.GetValue<int>());
            string Field(string name) => string.Concat(events.Select(e => (string?)e["choices"]![0]!["delta"]![name] ?? "")).Trim();
            Assert.Equal(alone[i].Reasoning, Field("reasoning_content"));
            Assert.Equal(alone[i].Answer, Field("content"));
        }

        await Concurrency.WaitForIdleAsync(http);
        Assert.Equal(Leavers, await Http.MetricAsync(http, "retort_cancelled_generations_total"));
        long steps = await Http.MetricAsync(http, "retort_decode_steps_total");
        long decoded = await Http.MetricAsync(http, "retort_decoded_tokens_total");
        // Every step runs one token per active sequence: more tokens than steps means they went together.
        Assert.True(decoded > steps, $"{decoded} tokens in {steps} decode steps: nothing was batched");
        long generated = await Http.MetricAsync(http, "retort_completion_tokens_total");
        Assert.InRange(generated, Clients * MaxTokens, Clients * MaxTokens + Leavers * 1999L);
    }

    /// <summary>Asks for a long answer, reads a little of it, and hangs up.</summary>
    private static async Task LeaveMidStreamAsync(Uri address, int i)
    {
        // No draining: by default disposing an unread response makes the handler read on (up to 1 MiB or
        // 2 s) to reuse the connection, and a fast server finishes the 2000 tokens inside that window,
        // so the client never hangs up. With MaxResponseDrainSize 0 dispose closes the connection.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = address };
        using var request = new HttpRequestMessage(HttpMethod.Post, i % 2 == 0 ? "/v1/chat/completions" : "/api/chat")
        {
            Content = Http.JsonBody(new
            {
                model = ServerFixture.ModelId,
                messages = new[] { new { role = "user", content = $"leaving {i}" } },
                stream = true, max_tokens = 2000, ignore_eos = true, options = new { num_predict = 2000, ignore_eos = true },
            }),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        for (int n = 0; n < 4; n++) Assert.NotNull(await reader.ReadLineAsync());
    }
}
