// Seed is marked experimental in the OpenAI client; the server supports it, so the tests use it.
#pragma warning disable OPENAI001
using System.ClientModel;
using OpenAI;
using OpenAI.Chat;
using Retort.Tests.Support;

namespace Retort.Server.Tests;

/// <summary>The official OpenAI .NET client against the server.</summary>
[Collection("server")]
public sealed class OpenAiClientTests(ServerFixture fixture)
{
    private OpenAIClient Client(string key = "unused") =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.BaseAddress!, "v1") });

    [Fact]
    public async Task Chat_answers_with_usage_and_the_requested_length()
    {
        var chat = Client().GetChatClient(ServerFixture.ModelId);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Seed = 42, Temperature = 0.8f };
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("写一个 Python 函数判断回文字符串。")], options);

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ServerFixture.ModelId, completion.Model);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.True(completion.Usage.InputTokenCount > 5);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        if (completion.FinishReason == ChatFinishReason.Length) Assert.Equal(12, completion.Usage.OutputTokenCount);
        else Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task Same_seed_gives_the_same_answer()
    {
        var chat = Client().GetChatClient(ServerFixture.ModelId);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 10, Seed = 7, Temperature = 1f };
        var a = await chat.CompleteChatAsync([new UserChatMessage("hello")], options);
        var b = await chat.CompleteChatAsync([new UserChatMessage("hello")], options);
        Assert.Equal(a.Value.Content.Count == 0 ? "" : a.Value.Content[0].Text, b.Value.Content.Count == 0 ? "" : b.Value.Content[0].Text);
        Assert.Equal(a.Value.Usage.OutputTokenCount, b.Value.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Streaming_chat_ends_with_a_finish_reason_and_usage()
    {
        var chat = Client().GetChatClient(ServerFixture.ModelId);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 16, Seed = 3 };
        int updates = 0;
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？")], options))
        {
            updates++;
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.True(updates >= 2, $"only {updates} updates");
        Assert.NotNull(finish);
        Assert.NotNull(usage);
        if (finish == ChatFinishReason.Length) Assert.Equal(16, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Models_lists_the_loaded_model()
    {
        var models = await Client().GetOpenAIModelClient().GetModelsAsync();
        var model = Assert.Single(models.Value);
        Assert.Equal(ServerFixture.ModelId, model.Id);
        Assert.Equal("retort", model.OwnedBy);
    }
}
