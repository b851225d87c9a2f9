using System.Globalization;
using Retort.Engine.Templates;

namespace Retort.Engine.Tests.Templates;

/// <summary>
/// Hand-derived expectations for engine features (the same behaviours are also checked against
/// jinja2 itself through reference.json); these pin the semantics in readable form.
/// </summary>
public sealed class ChatTemplateFeatureTests
{
    private static string Render(string source, IReadOnlyDictionary<string, object?>? vars = null, params ChatMessage[] messages) =>
        new ChatTemplate(source).Render(messages, false, "<s>", "</s>", vars);

    [Theory]
    // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation before it.
    [InlineData("{% if true %}\n  yes\n{% endif %}\n", "  yes\n")]
    [InlineData("  {% if true %}x{% endif %}", "x")]
    // Expressions are not lstripped, and one trailing newline of the template is dropped.
    [InlineData("  {{ 1 }}\n", "  1")]
    [InlineData("a {{- ' b ' -}} c", "a b c")]
    [InlineData("{{ [1, 'x', none, true] }}", "[1, 'x', None, True]")]
    [InlineData("{{ {'a': 1.0} }}", "{'a': 1.0}")]
    [InlineData("{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 % 3 }}", "3.5 3 2")]
    [InlineData("{{ 'a</think>b'.split('</think>')[-1] }}", "b")]
    [InlineData("{{ [1, 2, 3][::-1] }}", "[3, 2, 1]")]
    [InlineData("{% for x in [1, 2, 3] if x != 2 %}{{ loop.index }}{{ x }}{{ loop.last }} {% endfor %}", "11False 23True ")]
    [InlineData("{% set ns = namespace(t=0) %}{% for i in range(3) %}{% set ns.t = ns.t + i %}{% endfor %}{{ ns.t }}", "3")]
    [InlineData("{{ {'b': [1, 'é']} | tojson }}", "{\"b\": [1, \"é\"]}")]
    [InlineData("{{ 'x' if false }}|{{ undefined_name }}|{{ none }}", "||None")]
    [InlineData("{% macro m(a, b='d') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}", "1d12")]
    [InlineData("{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 2.5 | round }}", "0.30000000000000004 1e+20 2.0")]
    [InlineData("{%- for m in ['a', 'b'] %}\n  {{- m }}\n{%- endfor %}", "ab")]
    [InlineData("x\n  {%- if true %} y{% endif %}", "x y")]
    [InlineData("{% for k, v in {'a': 1, 'b': none}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=None;")]
    [InlineData("{% for x in range(6) %}{% if x is even %}{% continue %}{% endif %}{% if x > 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", "13")]
    [InlineData("{{ 'Hi'|upper ~ '!' }} {{ 'a b'|title }} {{ ['x', 'y']|join('-') }} {{ 'abc'|length }}", "HI! A B x-y 3")]
    [InlineData("{{ [3, 1, 2]|sort|first }} {{ [3, 1, 2]|sort(reverse=true)|list }} {{ ['a', 'a', 'b']|unique|list }}", "1 [3, 2, 1] ['a', 'b']")]
    [InlineData("{{ 'a' is string }} {{ 1 is number }} {{ none is none }} {{ {} is mapping }} {{ x is defined }} {{ 4 is divisibleby 2 }}", "True True True True False True")]
    [InlineData("{{ '  a b  '.strip().split(' ') }} {{ 'abc'.startswith('a') }} {{ 'a-b'.replace('-', '+') }}", "['a', 'b'] True a+b")]
    [InlineData("{{ [{'r': 'u'}, {'r': 'a'}]|selectattr('r', 'equalto', 'a')|list|length }}", "1")]
    [InlineData("{{ {'a': [1, 2]}|tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    2\n  ]\n}")]
    [InlineData("{% set x %}in{{ 1 }}{% endset %}{{ x }}|{{ 'abcdef'[1:4] }}|{{ 'abcdef'[-2:] }}", "in1|bcd|ef")]
    [InlineData("{{ 'yes' if 'a' in ['a'] else 'no' }} {{ 1 if 2 not in [2] else 3 }}", "yes 3")]
    [InlineData("{{ '%s=%d' % ('n', 4) }} {{ 2 ** 3 ** 2 }} {{ 10 // 3 * 3 }}", "n=4 64 9")]
    public void RendersAsJinja2Would(string source, string expected) => Assert.Equal(expected, Render(source));

    [Fact]
    public void MessagesLookLikeDicts()
    {
        var call = new ChatToolCall("get_time", new Dictionary<string, object?> { ["tz"] = "UTC" });
        string text = Render(
            "{% for m in messages %}{{ m['role'] }}:{{ m.content }}:{{ 'tool_calls' in m }}:{{ m.content is none }}"
            + "{% if m.tool_calls %}:{{ m.tool_calls[0]['function']['name'] }}{{ m.tool_calls[0].function.arguments | tojson }}{% endif %};{% endfor %}",
            null,
            new ChatMessage("user", "hi"),
            new ChatMessage("assistant", null) { ToolCalls = [call] });
        Assert.Equal("user:hi:False:False;assistant:None:True:True:get_time{\"tz\": \"UTC\"};", text);
    }

    [Fact]
    public void ExtraVariablesAreVisible()
    {
        var vars = new Dictionary<string, object?> { ["enable_thinking"] = false, ["n"] = 3, ["xs"] = new[] { "a", "b" } };
        Assert.Equal("False 3 a,b None", Render("{{ enable_thinking }} {{ n }} {{ xs | join(',') }} {{ tools }}", vars));
    }

    [Fact]
    public void StrftimeNowFormatsTheCurrentDate()
    {
        string year = DateTime.Now.Year.ToString(CultureInfo.InvariantCulture);
        string text = Render("{{ strftime_now('%Y') }}");
        Assert.Equal(year, text);
        Assert.Matches(@"^\d\d [A-Z][a-z][a-z] \d{4}$", Render("{{ strftime_now('%d %b %Y') }}"));
    }

    [Fact]
    public void JsonVariablesConvertLikePythonJson()
    {
        using var doc = System.Text.Json.JsonDocument.Parse("""{"tools": [{"name": "f", "n": 1, "x": 1.0, "ok": true, "none": null, "l": ["中"]}]}""");
        var vars = new Dictionary<string, object?> { ["tools"] = doc.RootElement.GetProperty("tools") };
        Assert.Equal("""[{"name": "f", "n": 1, "x": 1.0, "ok": true, "none": null, "l": ["中"]}] 1""", Render("{{ tools | tojson }} {{ tools[0].n }}", vars));
        var node = System.Text.Json.Nodes.JsonNode.Parse("""{"a": [1, 2.5]}""");
        Assert.Equal("{'a': [1, 2.5]}", Render("{{ v }}", new Dictionary<string, object?> { ["v"] = node }));
    }

    [Fact]
    public void TokensAreOptional()
    {
        var t = new ChatTemplate("[{{ bos_token }}]{{ bos_token is defined }}");
        Assert.Equal("[]False", t.Render([], false, null, null));
        Assert.Equal("[<s>]True", t.Render([], false, "<s>", null));
    }
}
