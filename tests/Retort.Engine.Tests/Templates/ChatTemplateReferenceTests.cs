using System.Collections.Concurrent;
using Retort.Engine.Templates;

namespace Retort.Engine.Tests.Templates;

/// <summary>
/// Every case in Data/reference.json renders to exactly what jinja2 (configured as Hugging
/// Face's apply_chat_template configures it) produced, or fails where jinja2 failed.
/// </summary>
public sealed class ChatTemplateReferenceTests
{
    private static readonly ConcurrentDictionary<string, ChatTemplate> Parsed = new();

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var n in TemplateTestData.CaseNames) data.Add(n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void RendersLikeJinja2(string name)
    {
        var c = TemplateTestData.Case(name);
        var template = c.TryGetProperty("template_file", out var file)
            ? Parsed.GetOrAdd(file.GetString()!, f => ChatTemplate.FromFile(TemplateTestData.DataPath(f)))
            : new ChatTemplate(c.GetProperty("template").GetString()!);
        var messages = TemplateTestData.Messages(c.GetProperty("messages"));
        bool agp = c.GetProperty("add_generation_prompt").GetBoolean();
        string? bos = TemplateTestData.OptString(c, "bos_token");
        string? eos = TemplateTestData.OptString(c, "eos_token");
        var extra = TemplateTestData.Extra(c.GetProperty("extra"));

        if (c.TryGetProperty("error", out var error))
        {
            var ex = Assert.Throws<RetortException>(() => template.Render(messages, agp, bos, eos, extra));
            string expected = error.GetProperty("message").GetString()!;
            if (error.GetProperty("type").GetString() == "TemplateError")
                Assert.Equal(expected, ex.Message); // raise_exception: the template's own words
            else
                Assert.Contains(expected, ex.Message);
            return;
        }
        Assert.Equal(c.GetProperty("expected").GetString(), template.Render(messages, agp, bos, eos, extra));
    }

    [Fact]
    public void ReferenceSetCoversTheShippedTemplates()
    {
        var names = TemplateTestData.CaseNames.ToList();
        Assert.True(names.Count(n => n.StartsWith("r1/", StringComparison.Ordinal)) >= 10);
        Assert.True(names.Count(n => n.StartsWith("qwen/", StringComparison.Ordinal)) >= 10);
        Assert.True(names.Count(n => n.StartsWith("llama/", StringComparison.Ordinal)) >= 10);
        Assert.True(names.Count(n => n.StartsWith("feature/", StringComparison.Ordinal)) >= 50);
    }
}
