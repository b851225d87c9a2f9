#pragma warning disable OPENAI001
using System.ClientModel;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using Retort.Engine;
using Retort.Engine.Generation;
using Retort.Engine.Sampling;
using EngineMessage = Retort.Engine.Templates.ChatMessage;

namespace Retort.Server.Tests;

/// <summary>
/// Reasoning budgets per request (reasoning_budget, reasoning_effort, Ollama's think) and as the server's
/// default, through the scheduler's batched path, held to the engine's one-sequence path (Generator).
/// The fixture's chat template ends the prompt inside "&lt;think&gt;\n", as R1's does.
/// </summary>
[Collection("server")]
public sealed class ReasoningBudgetTests(ServerFixture fixture)
{
    private const string Nudge = "I have to give the answer now, based on my thinking so far.";

    /// <summary>What the engine alone says to a question, greedy, with a budget.</summary>
    private GenerationResult Alone(string question, int? budget, int maxTokens, string? nudge = null, bool ignoreEos = true)
    {
        var service = new InferenceService(fixture.Model, 1, ServerFixture.Context, 0);
        var prompt = service.ChatPrompt([new EngineMessage("user", question)]);
        Assert.True(ReasoningSplitter.PromptOpensReasoning(prompt.Text));
        var options = SamplingOptions.Greedy with
        {
            MaxTokens = maxTokens, IgnoreEos = ignoreEos, ReasoningBudget = budget, ReasoningNudge = nudge ?? SamplingOptions.DefaultReasoningNudge,
        };
        return new Generator(fixture.Model, ServerFixture.Context, fixture.Model.ForwardLock).Generate(prompt.Tokens, options, startsInReasoning: true);
    }

    private static string Delta(List<JsonObject> events, string field) =>
        string.Concat(events.Select(e => (string?)e["choices"]![0]!["delta"]?[field] ?? "")).Trim();

    [Fact]
    public async Task Concurrent_streams_with_different_budgets_each_equal_the_engine_alone()
    {
        const int max = 90;
        int?[] budgets = [0, 2, 7, null];
        await using var server = await fixture.StartAsync(new ServerOptions { Parallel = budgets.Length, ContextSize = ServerFixture.Context });
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        string Question(int i) => $"{i}: 如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？";

        var alone = budgets.Select((b, i) => Alone(Question(i), b, max)).ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(alone[i].ReasoningBudgetExhausted);
            Assert.Equal(budgets[i], alone[i].ReasoningTokens);
        }
        Assert.False(alone[3].ReasoningBudgetExhausted);

        var streams = await Task.WhenAll(budgets.Select((b, i) => Http.PostStreamAsync(http, "/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = Question(i) } },
            stream = true, max_tokens = max, ignore_eos = true, temperature = 0, reasoning_budget = b,
        })));
        for (int i = 0; i < budgets.Length; i++)
        {
            var (events, done) = Http.ParseSse(streams[i].Text);
            Assert.True(done);
            Assert.Equal(alone[i].Reasoning, Delta(events, "reasoning_content"));
            Assert.Equal(alone[i].Answer, Delta(events, "content"));
            var last = events[^1];
            Assert.Equal(alone[i].ReasoningBudgetExhausted, last["choices"]![0]!["reasoning_budget_exhausted"]!.GetValue<bool>());
            Assert.Equal(alone[i].ReasoningTokens, last["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>());
            Assert.Equal(max, last["usage"]!["completion_tokens"]!.GetValue<int>());
            Assert.Equal("length", last["choices"]![0]!["finish_reason"]!.GetValue<string>());
        }
        Assert.EndsWith(Nudge, Delta(Http.ParseSse(streams[2].Text).Events, "reasoning_content"));
        Assert.Equal("", Delta(Http.ParseSse(streams[0].Text).Events, "reasoning_content"));
    }

    [Fact]
    public async Task A_budget_in_a_plain_answer_shows_in_usage_and_on_the_choice()
    {
        var (status, o) = await Http.PostAsync(fixture.Http, "/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "What is 2+3?" } },
            max_tokens = 90, ignore_eos = true, temperature = 0, reasoning_budget = 3,
        });
        Assert.Equal(200, status);
        var choice = o["choices"]![0]!;
        Assert.True(choice["reasoning_budget_exhausted"]!.GetValue<bool>());
        Assert.Equal("length", choice["finish_reason"]!.GetValue<string>());
        Assert.EndsWith(Nudge, choice["message"]!["reasoning_content"]!.GetValue<string>());
        Assert.Equal(3, o["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>());
        var alone = Alone("What is 2+3?", 3, 90);
        Assert.Equal(alone.Answer, choice["message"]!["content"]!.GetValue<string>());

        // The token limit inside the thinking: a length stop, and the budget did not end it.
        var (_, cut) = await Http.PostAsync(fixture.Http, "/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "What is 2+3?" } },
            max_tokens = 5, ignore_eos = true, temperature = 0, reasoning_budget = 50,
        });
        Assert.Equal("length", cut["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.False(cut["choices"]![0]!["reasoning_budget_exhausted"]!.GetValue<bool>());
        Assert.Equal(5, cut["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_OpenAI_client_sends_reasoning_effort_and_reads_the_reasoning_tokens()
    {
        var client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.BaseAddress!, "v1") });
        var chat = client.GetChatClient(ServerFixture.ModelId);
        foreach (var level in new[] { ChatReasoningEffortLevel.Minimal, ChatReasoningEffortLevel.None })
        {
            var options = new ChatCompletionOptions { MaxOutputTokenCount = 30, Temperature = 0, ReasoningEffortLevel = level };
            ChatCompletion c = await chat.CompleteChatAsync([new UserChatMessage("hello")], options);
            Assert.Equal(0, c.Usage.OutputTokenDetails.ReasoningTokenCount);
            Assert.True(c.FinishReason is ChatFinishReason.Stop or ChatFinishReason.Length);
            Assert.Equal(Alone("hello", 0, 30, ignoreEos: false).Answer, string.Concat(c.Content.Select(p => p.Text)));
        }

        // "low" is 1,024 tokens: 12 tokens of output are all thinking.
        var low = await chat.CompleteChatAsync([new UserChatMessage("hello")],
            new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0, ReasoningEffortLevel = ChatReasoningEffortLevel.Low });
        Assert.Equal(Alone("hello", 1024, 12, ignoreEos: false).ReasoningTokens, low.Value.Usage.OutputTokenDetails.ReasoningTokenCount);
        Assert.True(low.Value.Usage.OutputTokenDetails.ReasoningTokenCount > 0);
    }

    [Fact]
    public async Task A_budget_in_tokens_wins_over_the_effort_level()
    {
        var (status, o) = await Http.PostAsync(fixture.Http, "/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "hi" } },
            max_tokens = 90, ignore_eos = true, temperature = 0, reasoning_effort = "none", reasoning_budget = 2, reasoning_nudge = " Done.",
        });
        Assert.Equal(200, status);
        Assert.Equal(2, o["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>());
        Assert.EndsWith("Done.", o["choices"]![0]!["message"]!["reasoning_content"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_servers_default_budget_and_nudge_apply_unless_a_request_says_otherwise()
    {
        await using var server = await fixture.StartAsync(new ServerOptions { ContextSize = ServerFixture.Context, ReasoningBudget = 2, ReasoningNudge = " Enough." });
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        var (_, byDefault) = await Http.PostAsync(http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 60, ignore_eos = true, temperature = 0 });
        Assert.Equal(2, byDefault["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>());
        Assert.EndsWith("Enough.", byDefault["choices"]![0]!["message"]!["reasoning_content"]!.GetValue<string>());
        Assert.Equal(Alone("hi", 2, 60, " Enough.").Answer, byDefault["choices"]![0]!["message"]!["content"]!.GetValue<string>());

        var (_, unlimited) = await Http.PostAsync(http, "/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 20, ignore_eos = true, temperature = 0, reasoning_budget = -1 });
        Assert.False(unlimited["choices"]![0]!["reasoning_budget_exhausted"]!.GetValue<bool>());
        Assert.Equal(Alone("hi", null, 20).ReasoningTokens, unlimited["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>());

        // Ollama's think level is a request's own budget too; its nudge is the server's.
        var (_, ollama) = await Http.PostAsync(http, "/api/chat", new
        {
            messages = new[] { new { role = "user", content = "hi" } }, stream = false, think = "low",
            options = new { num_predict = 20, temperature = 0, ignore_eos = true },
        });
        Assert.False(ollama["reasoning_budget_exhausted"]!.GetValue<bool>());
        Assert.Equal(20, ollama["eval_count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(-3, null, "--reasoning-budget must be a number of tokens ≥ 0 (0: no thinking) or -1 (no limit), found -3")]
    [InlineData(null, "a</think>", "--reasoning-nudge must not contain the tag </think>")]
    public void Bad_server_defaults_are_refused_before_it_starts(int? budget, string? nudge, string message)
    {
        var ex = Assert.Throws<RetortException>(() => new RetortServer(fixture.Model, new ServerOptions { Port = 0, ReasoningBudget = budget, ReasoningNudge = nudge }));
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public async Task Ollama_think_false_answers_without_thinking()
    {
        var alone = Alone("如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？", 0, 30);
        var (status, o) = await Http.PostAsync(fixture.Http, "/api/chat", new
        {
            messages = new[] { new { role = "user", content = "如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？" } },
            stream = false, think = false, options = new { num_predict = 30, temperature = 0, ignore_eos = true },
        });
        Assert.Equal(200, status);
        var message = o["message"]!.AsObject();
        Assert.False(message.ContainsKey("thinking"));
        Assert.Equal(alone.Answer, message["content"]!.GetValue<string>());
        Assert.True(o["reasoning_budget_exhausted"]!.GetValue<bool>());
        Assert.Equal(0, o["reasoning_tokens"]!.GetValue<int>());
        Assert.Equal("length", o["done_reason"]!.GetValue<string>());

        // Streamed the same: no piece carries thinking.
        var (_, text) = await Http.PostStreamAsync(fixture.Http, "/api/generate", new
        {
            prompt = "如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？", think = false, options = new { num_predict = 30, temperature = 0, ignore_eos = true },
        });
        var lines = text.TrimEnd('\n').Split('\n').Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.All(lines, l => Assert.False(l.ContainsKey("thinking")));
        Assert.Equal(alone.Answer, string.Concat(lines.Select(l => l["response"]!.GetValue<string>())).Trim());
        Assert.True(lines[^1]["reasoning_budget_exhausted"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Ollama_think_levels_and_the_budget_option_set_the_budget()
    {
        var (_, chat) = await Http.PostAsync(fixture.Http, "/api/chat", new
        {
            messages = new[] { new { role = "user", content = "hi" } }, stream = false, think = true,
            options = new { num_predict = 90, temperature = 0, ignore_eos = true, reasoning_budget = 3 },
        });
        Assert.EndsWith(Nudge, chat["message"]!["thinking"]!.GetValue<string>());
        Assert.Equal(3, chat["reasoning_tokens"]!.GetValue<int>());
        Assert.True(chat["reasoning_budget_exhausted"]!.GetValue<bool>());
        Assert.Equal(Alone("hi", 3, 90).Answer, chat["message"]!["content"]!.GetValue<string>());

        // A level with a budget of its own in options: the number wins, and thinking is shown apart.
        var (_, generate) = await Http.PostAsync(fixture.Http, "/api/generate", new
        {
            prompt = "hi", stream = false, think = "high", options = new { num_predict = 90, temperature = 0, ignore_eos = true, reasoning_budget = 2 },
        });
        Assert.EndsWith(Nudge, generate["thinking"]!.GetValue<string>());
        Assert.Equal(2, generate["reasoning_tokens"]!.GetValue<int>());

        // "medium" alone (4,096) is not reached in 16 tokens.
        var (_, medium) = await Http.PostAsync(fixture.Http, "/api/generate", new
        {
            prompt = "hi", stream = false, think = "medium", options = new { num_predict = 16, temperature = 0, ignore_eos = true },
        });
        Assert.False(medium["reasoning_budget_exhausted"]!.GetValue<bool>());
        Assert.Equal(Alone("hi", 4096, 16).Reasoning, medium["thinking"]?.GetValue<string>() ?? "");
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"reasoning_budget":-2}""", "reasoning_budget", "found -2")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"reasoning_budget":"lots"}""", "reasoning_budget", "must be a number, found a string")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"reasoning_budget":1.5}""", "reasoning_budget", "whole number")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"extreme"}""", "reasoning_effort",
        "'reasoning_effort' must be one of none, minimal, low, medium, high, xhigh, max, found 'extreme'")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":3}""", "reasoning_effort", "must be a string, found a number")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"reasoning_nudge":"ok</think>"}""", "reasoning_nudge", "must not contain the tag </think>")]
    public async Task Bad_reasoning_fields_are_400s_naming_the_field(string body, string param, string message)
    {
        foreach (string path in new[] { "/v1/chat/completions", "/v1/completions" })
        {
            string json = path == "/v1/completions" ? body.Replace("\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]", "\"prompt\":\"hi\"") : body;
            var (status, o) = await Http.PostAsync(fixture.Http, path, json);
            Assert.Equal(400, status);
            Assert.Equal(param, o["error"]!["param"]!.GetValue<string>());
            Assert.Contains(message, o["error"]!["message"]!.GetValue<string>());
            Assert.DoesNotContain('\n', o["error"]!["message"]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData("""{"prompt":"hi","think":"huge"}""", "'think' must be true, false or a level (low, medium, high; also none, minimal, xhigh, max), found 'huge'")]
    [InlineData("""{"prompt":"hi","think":5}""", "'think' must be true, false or a level (low, medium, high; also none, minimal, xhigh, max), found a number")]
    [InlineData("""{"prompt":"hi","options":{"reasoning_budget":-9}}""", "'reasoning_budget' must be a number of tokens ≥ 0 (0: no thinking) or -1 (no limit), found -9")]
    [InlineData("""{"prompt":"hi","options":{"reasoning_nudge":7}}""", "'reasoning_nudge' must be a string, found a number")]
    public async Task Bad_ollama_reasoning_fields_are_400s_in_ollamas_shape(string body, string message)
    {
        foreach (string path in new[] { "/api/generate", "/api/chat" })
        {
            string json = path == "/api/chat" ? body.Replace("\"prompt\":\"hi\"", "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]") : body;
            var (status, o) = await Http.PostAsync(fixture.Http, path, json);
            Assert.Equal(400, status);
            Assert.Equal(message, o["error"]!.GetValue<string>());
        }
    }
}
