using Retort.Engine.Templates;

namespace Retort.Engine.Tests.Templates;

/// <summary>Constructs outside the subset fail with a RetortException naming them and their line.</summary>
public sealed class UnsupportedConstructTests
{
    [Theory]
    [InlineData("a\n{% include 'other.jinja' %}", "'include'", 2)]
    [InlineData("{% if true %}\n\n  {% extends 'base' %}{% endif %}", "'extends'", 3)]
    [InlineData("x\ny {{ messages | wordwrap }}", "'wordwrap'", 2)]
    [InlineData("{% for m in messages %}\n{{ m | groupby('role') }}{% endfor %}", "'groupby'", 2)]
    [InlineData("\n\n\n{% if x is escaped %}{% endif %}", "'escaped'", 4)]
    [InlineData("{% set x = messages | batch(2) %}", "'batch'", 1)]
    [InlineData("{% for x in y recursive %}{% endfor %}", "'recursive'", 1)]
    [InlineData("{% endfor %}", "'endfor'", 1)]
    [InlineData("{% if true %}unclosed", "'endif'", 1)]
    public void FailsAtParseTime(string source, string construct, int line)
    {
        var ex = Assert.Throws<RetortException>(() => new ChatTemplate(source));
        Assert.Contains(construct, ex.Message);
        Assert.Contains($"line {line}", ex.Message);
    }

    [Theory]
    [InlineData("line one\n  {{ 'a'.zfill(3) }}", "'zfill'", 2)]
    [InlineData("\n{{ '{}'.format(1) }}", "'format'", 2)]
    [InlineData("{% for x in [1] %}\n\n{{ loop.changed(x) }}{% endfor %}", "loop.changed", 3)]
    [InlineData("{{ [1] | map('wordwrap') | list }}", "'wordwrap'", 1)]
    [InlineData("{{ {'a': 1}.copy() }}", "'copy'", 1)]
    [InlineData("\n{{ strftime_now('%Q') }}", "%Q", 2)]
    public void FailsAtRenderTime(string source, string construct, int line)
    {
        var template = new ChatTemplate(source);
        var ex = Assert.Throws<RetortException>(() => template.Render([], false, null, null));
        Assert.Contains(construct, ex.Message);
        Assert.Contains($"line {line}", ex.Message);
    }

    [Fact]
    public void RuntimeErrorsCarryTheirPosition()
    {
        var template = new ChatTemplate("ok\n{% for m in messages %}{{ m.content + 1 }}{% endfor %}");
        var ex = Assert.Throws<RetortException>(() => template.Render([new ChatMessage("user", "hi")], false, null, null));
        Assert.Contains("line 2", ex.Message);
        Assert.Contains("can only concatenate str", ex.Message);
    }

    [Fact]
    public void RaiseExceptionSurfacesTheMessageAlone()
    {
        var template = new ChatTemplate("{{ raise_exception('Only user and assistant roles are supported!') }}");
        var ex = Assert.Throws<RetortException>(() => template.Render([], true, null, null));
        Assert.Equal("Only user and assistant roles are supported!", ex.Message);
    }

    [Fact]
    public void MissingFileIsARetortException()
    {
        var ex = Assert.Throws<RetortException>(() => ChatTemplate.FromFile("/nonexistent/dir/chat_template.jinja"));
        Assert.Contains("/nonexistent/dir/chat_template.jinja", ex.Message);
    }
}
