using System.Text;
using Retort.Engine.Formats.Gguf;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

/// <summary>
/// A GGUF's tokenizer.chat_template is code from whoever made the file. Hostile templates end in
/// one line and a non-zero exit in every command that reads one; before the template limits,
/// `show` of such a file died of a stack overflow (exit -6), which here would end the test host.
/// </summary>
public sealed class TemplateAttackCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("retort-template-attack-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Repeat(string s, int n) => new StringBuilder(s.Length * n).Insert(0, s, n).ToString();

    // The micro fixture with its chat template replaced, as a downloaded file could carry it.
    private string ModelWithTemplate(string template)
    {
        string target = Path.Combine(_dir, $"hostile-{Guid.NewGuid():N}.gguf");
        using var gguf = GgufFile.Open(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));
        var writer = new GgufWriter();
        foreach (string key in gguf.MetadataKeys) writer.SetMetadata(key, gguf.Metadata[key]);
        writer.SetMetadata("tokenizer.chat_template", GgufValue.Of(template));
        foreach (var t in gguf.TensorList) writer.AddTensor(t);
        writer.Write(target);
        return target;
    }

    private static void AssertOneLineError(int code, string stderr, params string[] fragments)
    {
        Assert.NotEqual(0, code);
        string[] lines = stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        foreach (string f in fragments) Assert.Contains(f, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
    }

    public static TheoryData<string, string> ParseTimeAttacks() => new()
    {
        { "{{ " + Repeat("(", 5_000) + "1" + Repeat(")", 5_000) + " }}", "levels deep" },
        { "{{ 1" + Repeat(" + 1", 10_000) + " }}", "levels deep" },
        { Repeat("{% if true %}", 20_000) + Repeat("{% endif %}", 20_000), "levels deep" },
        { "{{ messages" + Repeat(".a", 200_000) + " }}", "levels deep" },
    };

    [Theory]
    [MemberData(nameof(ParseTimeAttacks))]
    public void ShowAndRunRefuseADeeplyNestedTemplate(string template, string expected)
    {
        string model = ModelWithTemplate(template);
        var show = CliRunner.Run("show", model);
        AssertOneLineError(show.ExitCode, show.Err, "tokenizer.chat_template", expected, "limit");
        var run = CliRunner.Run("run", model, "-p", "hi", "-n", "2");
        AssertOneLineError(run.ExitCode, run.Err, "tokenizer.chat_template", expected, "limit");
    }

    [Theory]
    [InlineData("{{ 'a' * 1000000000 }}", "characters long")]
    [InlineData("{{ [1] * 2000000000 }}", "items")]
    [InlineData("{{ '%999999999d' % 5 }}", "field width")]
    [InlineData("{{ messages[0].content | indent(1000000000) }}", "indent width")]
    [InlineData("{% for i in range(99999) %}{% for j in range(99999) %}{{ i }}{% endfor %}{% endfor %}", "per render")]
    public void RunRefusesATemplateThatBlowsUpWhenRendered(string template, string expected)
    {
        string model = ModelWithTemplate(template);
        var show = CliRunner.Run("show", model);
        Assert.True(show.ExitCode == 0, show.Err); // it parses; only rendering costs
        var run = CliRunner.Run("run", model, "-p", "hi", "-n", "2");
        AssertOneLineError(run.ExitCode, run.Err, expected, "limit");
    }
}
