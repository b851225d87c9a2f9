using System.Text;
using System.Text.Json.Nodes;
using Retort.Distillation.Models;
using Retort.Distillation.Tasks;
using Retort.Distillation.Tests.Support;
using Retort.Distillation.Traces;
using Retort.Engine;

namespace Retort.Distillation.Tests.Traces;

public sealed class TraceGeneratorTests
{
    private static readonly IReadOnlyList<ReasoningTask> Tasks =
        TaskGenerator.Generate(4, 11, [TaskKind.ChickensRabbits, TaskKind.DiceProbability], [TaskLanguage.Zh, TaskLanguage.En]);

    private static readonly IReadOnlyList<PromptItem> Prompts = Tasks.Select(t => new PromptItem(t.Id, t.Prompt, t.Answer)).ToList();

    private static Dictionary<string, (string, string)> Solutions() =>
        Tasks.ToDictionary(t => t.Prompt, t => (t.Reasoning, $"The answer is \\boxed{{{t.Answer}}}."));

    private static List<JsonObject> ReadRecords(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private static RetryPolicy Recording(List<TimeSpan> delays, int attempts = 8) => new()
    {
        MaxAttempts = attempts,
        BaseDelay = TimeSpan.FromSeconds(1),
        Delay = (d, _) =>
        {
            lock (delays) delays.Add(d);
            return Task.CompletedTask;
        },
    };

    [Fact]
    public async Task RetriesThrough429And5xxHonouringRetryAfterAndRecordsEveryField()
    {
        await using var server = await FakeOpenAiServer.StartAsync(Solutions(), (429, "7"), (500, null), (503, null));
        using var temp = new TempFolder();
        var delays = new List<TimeSpan>();
        using var teacher = await OpenAiChatModel.ConnectAsync(server.Url, model: null, apiKey: null, Recording(delays));
        var sampling = new ChatSampling { Temperature = 0.7f, TopP = 0.9f, MaxTokens = 321, Seed = 40 };
        var summary = await TraceGenerator.RunAsync(teacher, Prompts, temp.File("traces.jsonl"),
            new TraceGenerationOptions { SamplesPerPrompt = 2, Sampling = sampling });

        Assert.Equal([TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], delays);
        Assert.Equal(8, summary.Requested);
        Assert.Equal(8, summary.Written);
        Assert.Equal(11, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal("fake-r1", r["model"]!.GetValue<string>()));

        var records = ReadRecords(temp.File("traces.jsonl"));
        Assert.Equal(8, records.Count);
        foreach (var task in Tasks)
            for (int s = 0; s < 2; s++)
            {
                var r = Assert.Single(records, x => x["id"]!.GetValue<string>() == task.Id && x["sample"]!.GetValue<int>() == s);
                Assert.Equal(task.Prompt, r["prompt"]!.GetValue<string>());
                Assert.Equal(task.Reasoning, r["reasoning"]!.GetValue<string>());
                Assert.Equal($"The answer is \\boxed{{{task.Answer}}}.", r["answer"]!.GetValue<string>());
                Assert.Equal(task.Answer, r["reference"]!.GetValue<string>());
                Assert.Equal("fake-r1", r["teacher"]!.GetValue<string>());
                Assert.Equal("stop", r["finish_reason"]!.GetValue<string>());
                Assert.Equal(task.Prompt.Length, r["usage"]!["prompt_tokens"]!.GetValue<int>());
                Assert.Equal(0.7, r["sampling"]!["temperature"]!.GetValue<double>(), 5);
                Assert.Equal(0.9, r["sampling"]!["top_p"]!.GetValue<double>(), 5);
                Assert.Equal(321, r["sampling"]!["max_tokens"]!.GetValue<int>());
                Assert.Equal(40 + s, r["sampling"]!["seed"]!.GetValue<int>());
            }
        // What was sent: the sampling parameters, the seed offset by the sample index.
        Assert.All(server.Requests, r => Assert.Equal(321, r["max_tokens"]!.GetValue<int>()));
        Assert.Equal([40, 41], server.Requests.Select(r => r["seed"]!.GetValue<int>()).Distinct().Order());
    }

    [Fact]
    public async Task GivesUpWithAClearErrorWhenTheServerKeepsFailing()
    {
        await using var server = await FakeOpenAiServer.StartAsync(Solutions(), Enumerable.Repeat((503, (string?)null), 10).ToArray());
        using var temp = new TempFolder();
        var delays = new List<TimeSpan>();
        using var teacher = await OpenAiChatModel.ConnectAsync(server.Url, "fake-r1", null, Recording(delays, attempts: 3));
        var ex = await Assert.ThrowsAsync<RetortException>(() =>
            TraceGenerator.RunAsync(teacher, Prompts, temp.File("t.jsonl"), new TraceGenerationOptions()));
        Assert.Contains("gave up after 3 tries", ex.Message);
        Assert.Contains("HTTP 503", ex.Message);
        Assert.Equal(3, server.Requests.Count);
        Assert.Empty(ReadRecords(temp.File("t.jsonl")));
    }

    [Fact]
    public async Task AnUnauthorizedServerStopsAtOnceAndARejectedPromptIsSkipped()
    {
        await using var server = await FakeOpenAiServer.StartAsync(Solutions());
        server.AlwaysFail[Prompts[1].Prompt] = 400;
        using var temp = new TempFolder();
        using var teacher = await OpenAiChatModel.ConnectAsync(server.Url, "fake-r1", null, Recording(new List<TimeSpan>()));
        var summary = await TraceGenerator.RunAsync(teacher, Prompts, temp.File("t.jsonl"), new TraceGenerationOptions { Concurrency = 3 });
        Assert.Equal(3, summary.Written);
        Assert.Contains(Prompts[1].Id, Assert.Single(summary.Rejected));
        Assert.DoesNotContain(ReadRecords(temp.File("t.jsonl")), r => r["id"]!.GetValue<string>() == Prompts[1].Id);

        server.AlwaysFail[Prompts[1].Prompt] = 401;
        int before = server.Requests.Count;
        var ex = await Assert.ThrowsAsync<RetortException>(() =>
            TraceGenerator.RunAsync(teacher, Prompts, temp.File("t.jsonl"), new TraceGenerationOptions()));
        Assert.Contains("HTTP 401", ex.Message);
        Assert.Equal(before + 1, server.Requests.Count);
    }

    [Fact]
    public async Task AKilledRunResumesWithoutRepeatingOrLosingSamples()
    {
        using var temp = new TempFolder();
        string path = temp.File("traces.jsonl");
        using var cts = new CancellationTokenSource();
        var first = new ScriptedModel(cancelOnCall: 4, cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            TraceGenerator.RunAsync(first, Prompts, path, new TraceGenerationOptions { SamplesPerPrompt = 2 }, cts.Token));
        byte[] afterKill = File.ReadAllBytes(path);
        Assert.Equal(3, ReadRecords(path).Count);

        var second = new ScriptedModel(cancelOnCall: 0, null);
        var summary = await TraceGenerator.RunAsync(second, Prompts, path, new TraceGenerationOptions { SamplesPerPrompt = 2, Concurrency = 2 });
        Assert.Equal(3, summary.AlreadyDone);
        Assert.Equal(5, summary.Written);
        Assert.Equal(5, second.Calls);
        Assert.Equal(afterKill, File.ReadAllBytes(path)[..afterKill.Length]);
        var keys = ReadRecords(path).Select(r => (r["id"]!.GetValue<string>(), r["sample"]!.GetValue<int>())).ToList();
        Assert.Equal(8, keys.Distinct().Count());
        Assert.Equal(8, keys.Count);
    }

    [Fact]
    public async Task ATornLastLineIsCutOffAndItsSampleGeneratedAgain()
    {
        using var temp = new TempFolder();
        string path = temp.File("traces.jsonl");
        await TraceGenerator.RunAsync(new ScriptedModel(0, null), Prompts.Take(2).ToList(), path, new TraceGenerationOptions());
        string good = File.ReadAllText(path);
        string torn = "{\"id\":\"" + Prompts[2].Id + "\",\"sample\":0,\"prompt\":\"半";
        File.AppendAllText(path, torn, Encoding.UTF8);

        var summary = await TraceGenerator.RunAsync(new ScriptedModel(0, null), Prompts, path, new TraceGenerationOptions());
        Assert.Equal(Encoding.UTF8.GetByteCount(torn), summary.RepairedBytes);
        Assert.Equal(2, summary.AlreadyDone);
        Assert.Equal(2, summary.Written);
        Assert.StartsWith(good, File.ReadAllText(path));
        Assert.Equal(Prompts.Select(p => p.Id).Order(), ReadRecords(path).Select(r => r["id"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task AWholeLastRecordWithoutItsNewlineIsKept()
    {
        using var temp = new TempFolder();
        string path = temp.File("traces.jsonl");
        await TraceGenerator.RunAsync(new ScriptedModel(0, null), Prompts.Take(2).ToList(), path, new TraceGenerationOptions());
        File.WriteAllText(path, File.ReadAllText(path).TrimEnd('\n'));
        var summary = await TraceGenerator.RunAsync(new ScriptedModel(0, null), Prompts, path, new TraceGenerationOptions());
        Assert.Equal(0, summary.RepairedBytes);
        Assert.Equal(2, summary.AlreadyDone);
        Assert.Equal(4, ReadRecords(path).Count);
    }

    [Fact]
    public async Task ACorruptLineInsideTheOutputIsAnErrorAndTheFileIsLeftAlone()
    {
        using var temp = new TempFolder();
        string path = temp.File("traces.jsonl");
        string content = "{\"id\":\"a\",\"sample\":0}\nnot json\n{\"id\":\"b\",\"sample\":0}\n";
        File.WriteAllText(path, content);
        var ex = await Assert.ThrowsAsync<RetortException>(() =>
            TraceGenerator.RunAsync(new ScriptedModel(0, null), Prompts, path, new TraceGenerationOptions()));
        Assert.Contains("line 2", ex.Message);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Fact]
    public async Task TheLocalFixtureModelCanBeTheTeacher()
    {
        using var model = Engine.Loading.LoadedModel.Load(Retort.Tests.Support.Fixtures.Path("qwen2-tiny", "gguf", "qwen2-tiny-q8_0.gguf"));
        var teacher = new LocalChatModel(model, contextSize: 512, parallel: 2);
        using var temp = new TempFolder();
        string path = temp.File("traces.jsonl");
        var summary = await TraceGenerator.RunAsync(teacher, Prompts.Take(2).ToList(), path,
            new TraceGenerationOptions { Concurrency = 2, Sampling = new ChatSampling { Temperature = 0, MaxTokens = 6 } });
        Assert.Equal(2, summary.Written);
        foreach (var r in ReadRecords(path))
        {
            Assert.Equal("qwen2-tiny-q8_0", r["teacher"]!.GetValue<string>());
            Assert.InRange(r["usage"]!["completion_tokens"]!.GetValue<int>(), 0, 6);
            Assert.True(r["usage"]!["prompt_tokens"]!.GetValue<int>() > 10);
            Assert.Contains(r["finish_reason"]!.GetValue<string>(), new[] { "stop", "length" });
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000/v1/models")]
    [InlineData("http://host:1/v1/", "http://host:1/v1/chat/completions", "http://host:1/v1/models")]
    [InlineData("https://api.example.com/v1/chat/completions", "https://api.example.com/v1/chat/completions", "https://api.example.com/v1/models")]
    public void EndpointAddressesAreCompletedTheSameWay(string given, string chat, string models)
    {
        var (c, m) = OpenAiChatModel.Addresses(given);
        Assert.Equal(chat, c.ToString());
        Assert.Equal(models, m.ToString());
    }

    [Fact]
    public void ANonHttpTeacherAddressIsRefused() =>
        Assert.Contains("not an http(s) address", Assert.Throws<RetortException>(() => OpenAiChatModel.Addresses("ftp://x")).Message);

    /// <summary>Answers every prompt at once; on call number <c>cancelOnCall</c> it cancels the run, as a kill would.</summary>
    private sealed class ScriptedModel(int cancelOnCall, CancellationTokenSource? cts) : IChatModel
    {
        private int _calls;

        public int Calls => _calls;

        public string Name => "scripted";

        public Task<ChatReply> CompleteAsync(string prompt, ChatSampling sampling, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) == cancelOnCall) cts!.Cancel();
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(new ChatReply { Reasoning = "r", Answer = prompt.Length.ToString(), FinishReason = "stop" });
        }
    }
}
