using System.Text.Json;
using Retort.Engine.Templates;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Templates;

/// <summary>The "chat" entries of the qwen2-micro reference, rendered by transformers itself.</summary>
public sealed class FixtureChatTests
{
    private const string Bos = "<｜begin▁of▁sentence｜>";
    private const string Eos = "<｜end▁of▁sentence｜>";

    public static TheoryData<int> Indices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < ChatEntries().Count; i++) data.Add(i);
        return data;
    }

    private static List<JsonElement> ChatEntries()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("qwen2-micro", "reference", "tokenizer.json")));
        return doc.RootElement.GetProperty("chat").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static ChatTemplate FromTokenizerConfig()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("r1-qwen-tokenizer", "tokenizer_config.json")));
        return new ChatTemplate(doc.RootElement.GetProperty("chat_template").GetString()!);
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void JinjaFileRendersLikeTransformers(int index)
    {
        var entry = ChatEntries()[index];
        var template = ChatTemplate.FromFile(Fixtures.Path("qwen2-micro", "hf", "chat_template.jinja"));
        var messages = TemplateTestData.Messages(entry.GetProperty("messages"));
        string text = template.Render(messages, entry.GetProperty("add_generation_prompt").GetBoolean(), Bos, Eos);
        Assert.Equal(entry.GetProperty("text").GetString(), text);
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void TokenizerConfigTemplateRendersLikeTransformers(int index)
    {
        var entry = ChatEntries()[index];
        var messages = TemplateTestData.Messages(entry.GetProperty("messages"));
        string text = FromTokenizerConfig().Render(messages, entry.GetProperty("add_generation_prompt").GetBoolean(), Bos, Eos);
        Assert.Equal(entry.GetProperty("text").GetString(), text);
    }
}
