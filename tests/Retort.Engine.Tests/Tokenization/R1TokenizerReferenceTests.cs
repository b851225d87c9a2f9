using System.Text.Json;
using Retort.Engine.Templates;
using Retort.Tests.Support;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>
/// The real DeepSeek-R1-Distill-Qwen tokenizer against transformers on stress strings and chat
/// renders (Reference/Data/r1-tokenizer-reference.json, made by tools/reference/make_reference.py).
/// </summary>
public sealed class R1TokenizerReferenceTests
{
    private static readonly Lazy<Tokenizer> R1 = new(() => Tokenizer.FromHfFolder(Fixtures.Path("r1-qwen-tokenizer")));

    private static JsonElement Reference()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "Data", "r1-tokenizer-reference.json")));
        return doc.RootElement.Clone();
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    public static TheoryData<int> Cases => new(Enumerable.Range(0, Reference().GetProperty("tokenization").GetArrayLength()));

    public static TheoryData<int> Chats => new(Enumerable.Range(0, Reference().GetProperty("chat").GetArrayLength()));

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodesAndDecodesLikeTransformers(int index)
    {
        var entry = Reference().GetProperty("tokenization")[index];
        string text = entry.GetProperty("text").GetString()!;
        int[] ids = R1.Value.Encode(text);
        Assert.Equal(Ints(entry.GetProperty("ids")), ids);
        Assert.Equal(Ints(entry.GetProperty("ids_with_special")), R1.Value.Encode(text, addSpecialTokens: true));
        Assert.Equal(entry.GetProperty("decoded").GetString(), R1.Value.Decode(ids));
    }

    [Theory]
    [MemberData(nameof(Chats))]
    public void ChatTemplateRendersAndTokenizesLikeTransformers(int index)
    {
        var entry = Reference().GetProperty("chat")[index];
        var messages = entry.GetProperty("messages").EnumerateArray()
            .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()))
            .ToList();
        using var config = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("r1-qwen-tokenizer", "tokenizer_config.json")));
        var template = new ChatTemplate(config.RootElement.GetProperty("chat_template").GetString()!);
        string text = template.Render(messages, entry.GetProperty("add_generation_prompt").GetBoolean(),
            "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>");
        Assert.Equal(entry.GetProperty("text").GetString(), text);
        Assert.Equal(Ints(entry.GetProperty("ids")), R1.Value.Encode(text));
    }
}
