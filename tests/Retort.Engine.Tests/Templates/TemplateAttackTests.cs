using System.Diagnostics;
using System.Text;
using Retort.Engine.Templates;

namespace Retort.Engine.Tests.Templates;

/// <summary>
/// Chat templates come inside model files, so they are attacker input. Each crafted template here
/// must end in one clear line naming the limit it hit, within seconds and a bounded amount of
/// memory, with the process alive: before the limits, these overflowed the stack (killing the
/// process) or ran past 4 GB and a minute.
/// </summary>
public sealed class TemplateAttackTests
{
    private static readonly ChatMessage[] Conversation = [new("user", "hi")];

    private static string Repeat(string s, int n) => new StringBuilder(s.Length * n).Insert(0, s, n).ToString();

    public static TheoryData<string, string> DeepSources() => new()
    {
        { "sum of 10,000 terms", "{{ 1" + Repeat(" + 1", 10_000) + " }}" },
        { "10,000 chained filters", "{{ 'a'" + Repeat("|trim", 10_000) + " }}" },
        { "10,000 chained ~", "{{ 'a'" + Repeat(" ~ 'a'", 10_000) + " }}" },
        { "10,000 nested for", Repeat("{% for x in [1] %}", 10_000) + "x" + Repeat("{% endfor %}", 10_000) },
        { "20,000 nested if", Repeat("{% if true %}", 20_000) + "x" + Repeat("{% endif %}", 20_000) },
        { "200,000-long attribute chain", "{{ messages" + Repeat(".a", 200_000) + " }}" },
        { "5,000 nested parentheses", "{{ " + Repeat("(", 5_000) + "1" + Repeat(")", 5_000) + " }}" },
        { "nested lists", "{{ " + Repeat("[", 5_000) + "1" + Repeat("]", 5_000) + " }}" },
        { "nested dicts", "{{ " + Repeat("{'a': ", 5_000) + "1" + Repeat("}", 5_000) + " }}" },
        { "10,000 not", "{{ " + Repeat("not ", 10_000) + "true }}" },
        { "10,000 unary minus", "{{ " + Repeat("-", 10_000) + "1 }}" },
        { "chained calls", "{{ range" + Repeat("(1)", 10_000) + " }}" },
        { "chained subscripts", "{{ messages" + Repeat("[0]", 10_000) + " }}" },
        { "chained tests", "{{ 1" + Repeat(" is number", 10_000) + " }}" },
        { "chained inline if", "{{ 1" + Repeat(" if true else 2", 10_000) + " }}" },
        { "nested set blocks", Repeat("{% set x %}", 5_000) + "a" + Repeat("{% endset %}", 5_000) },
        { "nested filter blocks", Repeat("{% filter upper %}", 5_000) + "a" + Repeat("{% endfilter %}", 5_000) },
        { "nested macro definitions", Repeat("{% macro m() %}", 5_000) + "a" + Repeat("{% endmacro %}", 5_000) },
        { "mixed nesting", Repeat("{% for x in [1] %}{% if x %}", 100) + "{{ " + Repeat("(", 100) + "1" + Repeat(")", 100) + " }}" + Repeat("{% endif %}{% endfor %}", 100) },
        { "or/and chain", "{{ false" + Repeat(" or false and true", 10_000) + " }}" },
        { "power chain", "{{ 1" + Repeat(" ** 1", 10_000) + " }}" },
    };

    [Theory]
    [MemberData(nameof(DeepSources))]
    public void DeepNestingIsRefusedAtParse(string what, string source)
    {
        var ex = Assert.Throws<RetortException>(() => new ChatTemplate(source));
        AssertOneLine(ex.Message);
        Assert.Contains("levels deep", ex.Message);
        Assert.Contains("limit", ex.Message);
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Theory]
    [MemberData(nameof(DeepSources))]
    public void DeepNestingNeverOverflowsASmallStack(string what, string source)
    {
        // A thread with a fifth of the thread-pool stack: whatever the depth limit allows must still
        // fail with an exception here, never with a stack overflow that ends the test process.
        Exception? caught = null;
        var thread = new Thread(() =>
        {
            try
            {
                new ChatTemplate(source).Render(Conversation, true, "<s>", "</s>");
            }
            catch (Exception e)
            {
                caught = e;
            }
        }, maxStackSize: 256 * 1024);
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), what);
        Assert.IsType<RetortException>(caught);
        AssertOneLine(caught!.Message);
    }

    public static TheoryData<string, string, string> Bombs() => new()
    {
        { "string repetition", "{{ 'a' * 1000000000 }}", "characters long" },
        { "string repetition, factor first", "{{ 1000000000 * 'ab' }}", "characters long" },
        { "list repetition", "{{ [1] * 2000000000 }}", "items" },
        { "tuple repetition", "{{ (1, 2) * 2000000000 }}", "items" },
        { "format width", "{{ '%999999999d' % 5 }}", "field width" },
        { "format width, huge", "{{ '%99999999999999999999s' % 'x' }}", "field width" },
        { "format precision", "{{ '%.999999999f' % 1.5 }}", "precision" },
        { "indent width", "{{ 'a\nb' | indent(1000000000) }}", "indent width" },
        { "tojson indent", "{{ [1, 2] | tojson(indent=1000000000) }}", "tojson indent" },
        { "nested range loops", "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "per render" },
        { "loops that print", "{% for i in range(99999) %}{% for j in range(99999) %}{{ j }}{% endfor %}{% endfor %}", "limit" },
        { "doubling string", "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}", "characters long" },
        { "doubling with +", "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "characters long" },
        { "doubling list", "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", "items" },
        { "output growth", "{% for i in range(99999) %}{% for j in range(99999) %}{{ 'x' * 100000 }}{% endfor %}{% endfor %}", "limit" },
        { "replace growth", "{{ ('a' * 10000000).replace('a', 'aaaaaaaaaa') }}", "characters long" },
        { "replace empty", "{{ ('a' * 10000000).replace('', 'bb') }}", "characters long" },
        { "replace filter growth", "{{ ('a' * 10000000) | replace('a', 'aaaaaaaaaa') }}", "characters long" },
        { "join growth", "{{ (['x' * 10000000] * 100) | join(',') }}", "characters long" },
        { "join method growth", "{{ ','.join(['x' * 10000000] * 100) }}", "characters long" },
        { "escape growth", "{{ ('&' * 10000000) | e }}", "characters long" },
        { "repr growth", "{{ ['x' * 1000000] * 1000 }}", "characters long" },
        { "tojson growth", "{{ (['x' * 1000000] * 1000) | tojson }}", "characters long" },
        { "split into many parts", "{{ (',' * 15000000).split(',') | length }}", "items" },
        { "splitlines into many parts", "{{ ('\n' * 15000000).splitlines() | length }}", "items" },
        { "iterate a long string", "{% for c in 'a' * 15000000 %}{% endfor %}", "items" },
        { "unique over a range", "{% for i in range(99999) %}{{ range(99999) | unique | list | length }}{% endfor %}", "per render" },
        { "sort in a loop", "{% for i in range(99999) %}{{ range(99999) | sort | first }}{% endfor %}", "per render" },
        { "membership in a loop", "{% set r = range(99999) %}{% for i in range(99999) %}{% if -1 in r %}{% endif %}{% endfor %}", "per render" },
        { "equality of long lists in a loop", "{% set r = range(99999) | list %}{% for i in range(99999) %}{% if r == r %}{% endif %}{% endfor %}", "per render" },
        { "integer power loop", "{{ 1 ** 1000000000000000000 }}{% for i in range(99999) %}{% for j in range(99999) %}{{ 1 ** 1000000000000000000 }}{% endfor %}{% endfor %}", "limit" },
        { "recursive macro", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "macros call each other" },
        { "mutually recursive macros", "{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(0) }}", "macros call each other" },
        { "macro fan-out", "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}", "per render" },
        { "self-containing namespace", "{% set ns = namespace() %}{% set ns.x = ns %}{{ ns }}", "contains itself" },
        { "namespace cycle through a list", "{% set ns = namespace() %}{% set ns.x = [ns] %}{{ ns }}", "contains itself" },
        { "deep value built in a loop, printed", "{% set ns = namespace(x=1) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}", "levels deep" },
        { "deep value built in a loop, tojson", "{% set ns = namespace(x=1) %}{% for i in range(5000) %}{% set ns.x = {'a': ns.x} %}{% endfor %}{{ ns.x | tojson }}", "levels deep" },
        { "deep value built in a loop, compared", "{% set ns = namespace(x=1, y=1) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% set ns.y = [ns.y] %}{% endfor %}{{ ns.x == ns.y }}", "levels deep" },
        { "deep value built in a loop, sorted", "{% set ns = namespace(x=1, y=2) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% set ns.y = [ns.y] %}{% endfor %}{{ [ns.x, ns.y] | sort }}", "levels deep" },
    };

    [Theory]
    [MemberData(nameof(Bombs))]
    public void BombsEndWithinBoundsAndNameTheLimit(string what, string source, string expected)
    {
        var template = new ChatTemplate(source);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<RetortException>(() => template.Render(Conversation, true, "<s>", "</s>"));
        clock.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        AssertOneLine(ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Contains("limit", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"{what}: took {clock.Elapsed}");
        Assert.True(allocated < (3L << 30) / 2, $"{what}: allocated {allocated >> 20} MiB");
    }

    [Fact]
    public void TooLongASourceIsRefused()
    {
        var ex = Assert.Throws<RetortException>(() => new ChatTemplate(new string('x', TemplateLimits.MaxSourceLength + 1)));
        AssertOneLine(ex.Message);
        Assert.Contains("over the limit", ex.Message);
    }

    [Theory]
    [InlineData("deepseek-r1-distill.jinja", "<｜Assistant｜><think>\n")]
    [InlineData("Qwen-Qwen2.5-7B-Instruct.jinja", "<|im_start|>assistant\n")]
    [InlineData("meta-llama-Llama-3.1-8B-Instruct.jinja", "<|start_header_id|>assistant<|end_header_id|>\n\n")]
    public void TheLimitsLeaveRoomForRealTemplatesAndLongConversations(string file, string ending)
    {
        // Real templates over a long conversation: 2,000 turns of 2,000 characters (4 MB of
        // text, far past any context) render whole, ending with the generation prompt.
        var template = ChatTemplate.FromFile(TemplateTestData.DataPath(file));
        var text = new string('字', 2_000);
        var messages = Enumerable.Range(0, 2_000).Select(i => new ChatMessage(i % 2 == 0 ? "user" : "assistant", text + i)).ToList();
        string rendered = template.Render(messages, true, "<s>", "</s>");
        Assert.True(rendered.Length > 4_000_000, $"{rendered.Length}");
        Assert.Contains(text + "1999", rendered);
        Assert.EndsWith(ending, rendered);
    }

    [Fact]
    public void WorkJustBelowTheLimitsStillRenders()
    {
        // Limits must refuse only what crosses them: values at the edges render exactly.
        Assert.Equal(TemplateLimits.MaxStringLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Render($"{{{{ ('a' * {TemplateLimits.MaxStringLength}) | length }}}}"));
        Assert.Equal("1", Render("{{ " + Repeat("(", 100) + "1" + Repeat(")", 100) + " }}"));
        Assert.Equal(TemplateLimits.MaxItems.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Render($"{{{{ ([0] * {TemplateLimits.MaxItems}) | length }}}}"));
        Assert.Equal("1", Render("{{ 1 ** 1000000000000000000 }}"));
        Assert.Equal("1", Render("{{ (-1) ** 1000000000000000000 }}"));
        Assert.Equal("0", Render("{{ 0 ** 1000000000000000000 }}"));
        Assert.Equal("1024", Render("{{ 2 ** 10 }}"));
        Assert.Equal("3", Render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}3{% endif %}{% endmacro %}{{ f(90) }}"));
        Assert.Equal("['a', 'b', 'c']", Render("{{ ['a', 'b', 'a', 'c', 'b'] | unique | list }}"));
        Assert.Equal("[1, 'x', None]", Render("{{ [1, 1.0, true, 'x', none, none] | unique | list }}"));
    }

    [Fact]
    public void UniqueRefusesUnhashableItemsAsJinja2Does()
    {
        var ex = Assert.Throws<RetortException>(() => Render("{{ [[1], [1]] | unique | list }}"));
        Assert.Contains("unhashable type: 'list'", ex.Message);
    }

    private static string Render(string source) => new ChatTemplate(source).Render(Conversation, false, "<s>", "</s>");

    private static void AssertOneLine(string message)
    {
        Assert.DoesNotContain('\n', message);
        Assert.StartsWith("chat template error", message);
        Assert.True(message.Length < 400, message);
    }
}
