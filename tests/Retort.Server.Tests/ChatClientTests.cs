using Microsoft.Extensions.AI;
using Retort.Tests.Support;

namespace Retort.Server.Tests;

/// <summary>Microsoft.Extensions.AI's IChatClient over the engine.</summary>
[Collection("server")]
public sealed class ChatClientTests(ServerFixture fixture)
{
    [Fact]
    public async Task Response_and_stream_agree_and_report_usage()
    {
        using IChatClient client = new RetortChatClient(fixture.Model, contextSize: 256);
        var options = new ChatOptions { MaxOutputTokens = 12, Seed = 21, Temperature = 0.8f };
        ChatMessage[] messages = [new(ChatRole.User, "甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。")];

        var response = await client.GetResponseAsync(messages, options);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal(ServerFixture.ModelId, response.ModelId);
        Assert.NotNull(response.Usage);
        Assert.Equal(response.Usage!.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        if (response.FinishReason == ChatFinishReason.Length) Assert.Equal(12, response.Usage.OutputTokenCount);
        else Assert.Equal(ChatFinishReason.Stop, response.FinishReason);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(messages, options)) updates.Add(update);
        var streamed = updates.ToChatResponse();
        Assert.Equal(response.Text, streamed.Text);
        string reasoning = string.Concat(response.Messages.Single().Contents.OfType<TextReasoningContent>().Select(c => c.Text));
        string streamedReasoning = string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(c => c.Text));
        Assert.Equal(reasoning, streamedReasoning.Trim());
        Assert.Equal(response.FinishReason, streamed.FinishReason);
        Assert.Equal(response.Usage.OutputTokenCount, streamed.Usage!.OutputTokenCount);
        Assert.Equal("retort", client.GetService<ChatClientMetadata>()!.ProviderName);
    }

    [Fact]
    public async Task Reasoning_effort_sets_the_budget_and_usage_counts_the_reasoning()
    {
        using IChatClient client = new RetortChatClient(fixture.Model, contextSize: 256);
        ChatMessage[] messages = [new(ChatRole.User, "hi")];
        var none = await client.GetResponseAsync(messages, new ChatOptions
        {
            MaxOutputTokens = 20, Temperature = 0, Reasoning = new ReasoningOptions { Effort = ReasoningEffort.None },
        });
        Assert.Equal(0, none.Usage!.ReasoningTokenCount);
        Assert.Empty(none.Messages.Single().Contents.OfType<TextReasoningContent>());

        // "low" is 1,024 tokens: 12 tokens of output are all thinking unless the model closes it itself.
        var low = await client.GetResponseAsync(messages, new ChatOptions
        {
            MaxOutputTokens = 12, Temperature = 0, Reasoning = new ReasoningOptions { Effort = ReasoningEffort.Low },
        });
        Assert.InRange(low.Usage!.ReasoningTokenCount!.Value, 1, 12);
        Assert.NotEmpty(low.Messages.Single().Contents.OfType<TextReasoningContent>());
    }

    [Fact]
    public async Task Stopping_a_stream_early_frees_the_slot_for_the_next_call()
    {
        using IChatClient client = new RetortChatClient(fixture.Model, parallel: 1, contextSize: 256);
        int seen = 0;
        await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions { MaxOutputTokens = 200 }))
            if (++seen == 2) break;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var next = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "again")], new ChatOptions { MaxOutputTokens = 3 }, timeout.Token);
        Assert.NotNull(next.FinishReason);
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_a_retort_exception()
    {
        using IChatClient client = new RetortChatClient(fixture.Model, contextSize: 16);
        var ex = await Assert.ThrowsAsync<Retort.Engine.RetortException>(() =>
            client.GetResponseAsync([new ChatMessage(ChatRole.User, string.Join(' ', Enumerable.Repeat("word", 40)))]));
        Assert.Contains("context", ex.Message);
    }
}
