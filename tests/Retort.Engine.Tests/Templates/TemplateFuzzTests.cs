using System.Diagnostics;
using System.Text;
using Retort.Engine.Templates;

namespace Retort.Engine.Tests.Templates;

/// <summary>
/// Seeded fuzzing of the template engine: mutated real templates and random expressions. Every
/// case either renders or fails with a <see cref="RetortException"/> (one line), within a time
/// bound; any other exception, a hang or a crash is a bug. The seeds are fixed so a failure
/// reproduces.
/// </summary>
public sealed class TemplateFuzzTests
{
    private static readonly string[] Snippets =
    [
        "{{", "}}", "{%", "%}", "{#", "#}", "{% if x %}", "{% endif %}", "{% for m in messages %}", "{% endfor %}",
        "{% set ns = namespace(a=1) %}", "{% set ns.a = ns.a ~ ns.a %}", "{% macro f(a) %}{{ f(a) }}{% endmacro %}", "{{ f(1) }}",
        "{{ messages }}", "{{ messages[0]['content'] * 3 }}", "|tojson", "|trim", "|upper", "|length", "|join(', ')", "|sort", "|unique",
        "|indent(4)", "|replace('a', 'bb')", "| selectattr('role', 'equalto', 'user') | list", "(", ")", "[", "]", "{", "}", ",", ":",
        " ~ ", " + ", " * ", " ** ", " // ", " % ", " and ", " or ", " not ", " in ", " is defined", " if true else ", "'str'", "\"q\"",
        "1", "-1", "2.5", "1e308", "none", "true", "range(10)", "range(100000)", "loop.index", "loop.cycle('a', 'b')", "tools", "x.y.z",
        "'%s-%d' % ('a', 1)", "'%5s' % 'a'", "[1, 2, 3][::-1]", "{'k': [1, {'v': 2}]}", "dict(a=1)", "raise_exception('no')",
        "strftime_now('%Y-%m-%d')", "{% break %}", "{% continue %}", "{% raw %}", "{% endraw %}", "{%- ", " -%}", "{{- ", " -}}",
        "{% call f(1) %}x{% endcall %}", "{% filter upper %}", "{% endfilter %}", "{% set x %}", "{% endset %}", "\\", "\n", "\u0000", "\ud800",
    ];

    private static readonly ChatMessage[] Conversation =
    [
        new("system", "be brief"),
        new("user", "2 + 2?"),
        new("assistant", "<think>\nadd\n</think>\n\n4"),
        new("user", "and 3 + 3?"),
    ];

    private static readonly Dictionary<string, object?> Extra = new()
    {
        ["tools"] = new List<object?> { new Dictionary<string, object?> { ["type"] = "function", ["function"] = new Dictionary<string, object?> { ["name"] = "add", ["parameters"] = new Dictionary<string, object?>() } } },
        ["x"] = 1L,
    };

    private static void RenderOrRefuse(string source, string label)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var template = new ChatTemplate(source);
            template.Render(Conversation, true, "<s>", "</s>", Extra);
            template.Render(Conversation, false, null, null);
        }
        catch (RetortException e)
        {
            Assert.DoesNotContain('\n', e.Message.TrimEnd());
        }
        catch (Exception e)
        {
            Assert.Fail($"{label}: {e.GetType().Name}: {e.Message}\nsource: {source}");
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{label}: took {clock.Elapsed}\nsource: {source}");
    }

    public static TheoryData<string> TemplateFiles() => new()
    {
        "deepseek-r1-distill.jinja", "Qwen-Qwen2.5-7B-Instruct.jinja", "Qwen3-style-thinking.jinja",
        "meta-llama-Llama-3.1-8B-Instruct.jinja", "meta-llama-Llama-3.2-3B-Instruct.jinja",
    };

    [Theory]
    [MemberData(nameof(TemplateFiles))]
    public void MutatedRealTemplatesRenderOrFailCleanly(string file)
    {
        string original = File.ReadAllText(TemplateTestData.DataPath(file));
        var random = new Random(file.Length * 7919);
        for (int i = 0; i < 150; i++)
        {
            var sb = new StringBuilder(original);
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits; e++)
            {
                int at = random.Next(sb.Length + 1);
                switch (random.Next(4))
                {
                    case 0:
                        sb.Insert(at, Snippets[random.Next(Snippets.Length)]);
                        break;
                    case 1:
                        sb.Remove(Math.Min(at, sb.Length), Math.Min(random.Next(1, 40), sb.Length - Math.Min(at, sb.Length)));
                        break;
                    case 2:
                    {
                        int start = random.Next(sb.Length);
                        int len = Math.Min(random.Next(1, 200), sb.Length - start);
                        string span = sb.ToString(start, len);
                        sb.Insert(at, span);
                        break;
                    }
                    default:
                        sb.Insert(at, string.Concat(Enumerable.Range(0, random.Next(1, 5)).Select(_ => Snippets[random.Next(Snippets.Length)])));
                        break;
                }
            }
            RenderOrRefuse(sb.ToString(), $"{file} mutation {i}");
        }
    }

    [Fact]
    public void RandomExpressionsRenderOrFailCleanly()
    {
        var random = new Random(20261204);
        string[] atoms = ["1", "0", "-3", "2.5", "'ab'", "''", "none", "true", "false", "messages", "messages[0]", "messages[-1].content",
            "tools", "x", "undefined_name", "[1, 'a', none]", "{'k': 'v', 'n': 2}", "(1, 2)", "range(5)", "namespace(a=1)", "loop"];
        string[] binary = [" + ", " - ", " * ", " / ", " // ", " % ", " ** ", " ~ ", " == ", " != ", " < ", " >= ", " in ", " not in ", " and ", " or "];
        string[] postfix = ["|length", "|tojson", "|trim", "|list", "|first", "|last", "|sort", "|unique", "|reverse", "|string", "|int", "|float",
            "|abs", "|round", "|items", "|join('-')", "|default('d')", "|map('upper')", "|select('defined')", "|indent(2)", "|title",
            ".upper()", ".split(',')", ".strip()", ".startswith('a')", ".get('k')", ".items()", ".keys()", "[0]", "[1:]", "['k']", ".content",
            " is defined", " is none", " is string", " is mapping", " is divisibleby 2"];

        string Expr(int depth)
        {
            if (depth <= 0 || random.Next(3) == 0) return atoms[random.Next(atoms.Length)] + (random.Next(3) == 0 ? postfix[random.Next(postfix.Length)] : "");
            return random.Next(5) switch
            {
                0 => "(" + Expr(depth - 1) + binary[random.Next(binary.Length)] + Expr(depth - 1) + ")",
                1 => "not " + Expr(depth - 1),
                2 => "(" + Expr(depth - 1) + " if " + Expr(depth - 1) + " else " + Expr(depth - 1) + ")",
                3 => "[" + Expr(depth - 1) + ", " + Expr(depth - 1) + "]",
                _ => "(" + Expr(depth - 1) + ")" + postfix[random.Next(postfix.Length)],
            };
        }

        for (int i = 0; i < 1500; i++)
        {
            string source = random.Next(3) switch
            {
                0 => "{{ " + Expr(5) + " }}",
                1 => "{% for m in " + Expr(3) + " %}{{ " + Expr(3) + " }}{% endfor %}",
                _ => "{% if " + Expr(4) + " %}{{ " + Expr(4) + " }}{% else %}{{ " + Expr(2) + " }}{% endif %}",
            };
            RenderOrRefuse(source, $"expression {i}");
        }
    }
}
