using System.Text.RegularExpressions;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>
/// The hand-written splitters against .NET Regex running the very same patterns. On BMP text
/// without exotic case folds the two engines agree with Oniguruma, so any difference is a bug in
/// the hand-written matcher; astral text is checked separately, where .NET Regex is known to differ.
/// </summary>
public sealed class PatternSplitterTests
{
    private static readonly string[] Samples =
    [
        "Hello world", " Hello World!", "  two leading", "trailing  ", "tab\tsep\t\tx", "a\r\nb\rc\n\n\nd",
        " \t\n ", "\n \n  ", "   ", "x \n", "x  \n  y", "I've they'll we're DON'T 'S 'Ll 'x", "''s",
        "3.14159 1234567890 007", "x1234y", " 42 ", "$$$ %%% ^^^ &&&", " ?!\r\n\r\nnext", "(hello) [world]",
        "\thello", "-dash_under", "鸡兔同笼,共有 35 个头,94 条腿", "Привет мир", "こんにちは世界", "안녕하세요",
        "Ünïcödé — très cher!", "e\u0301 combining \u0301 mark", "\u00a0nbsp \u3000ideo\u2003em", "a\u000bb\u000cc\u0085d",
        "def f(x):\n    return x * 2\n", "  if (a) {\n\t\treturn;\n\t}\n", "١٢٣٤ ²³ ½ Ⅻ", "x\n", "\n", "",
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var p in Enum.GetValues<PretokenizerPattern>())
        {
            foreach (string s in Samples) data.Add(p.ToString(), s);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hand_written_splitter_matches_the_regex(string patternName, string text)
    {
        var pattern = Enum.Parse<PretokenizerPattern>(patternName);
        string regex = pattern switch
        {
            PretokenizerPattern.Gpt2 => PatternSplitter.Gpt2Regex,
            PretokenizerPattern.Llama3 => PatternSplitter.Llama3Regex,
            _ => PatternSplitter.Qwen2Regex,
        };
        Assert.Equal(Pieces(RegexSplitter.FromPattern(regex, "test pattern", "the test"), text), Pieces(new PatternSplitter(pattern), text));
    }

    [Fact]
    public void Qwen2_takes_one_digit_and_llama3_three()
    {
        Assert.Equal(["1", "2", "3", "4", "5"], Pieces(new PatternSplitter(PretokenizerPattern.Qwen2), "12345"));
        Assert.Equal(["123", "45"], Pieces(new PatternSplitter(PretokenizerPattern.Llama3), "12345"));
        Assert.Equal(["12345"], Pieces(new PatternSplitter(PretokenizerPattern.Gpt2), "12345"));
    }

    [Fact]
    public void Whitespace_before_a_word_leaves_one_space_for_the_word()
    {
        Assert.Equal(["  ", " hello", "   "], Pieces(new PatternSplitter(PretokenizerPattern.Qwen2), "   hello   "));
        Assert.Equal([" \t\n", " "], Pieces(new PatternSplitter(PretokenizerPattern.Qwen2), " \t\n "));
    }

    [Fact]
    public void Astral_letters_and_digits_are_whole_code_points()
    {
        // .NET Regex sees surrogates here (category Cs), Oniguruma sees letters and digits.
        var qwen = new PatternSplitter(PretokenizerPattern.Qwen2);
        Assert.Equal(["a𠀀b", " 𝐀𝐁", " ", "𝟏", "𝟐"], Pieces(qwen, "a𠀀b 𝐀𝐁 𝟏𝟐"));
        Assert.Equal(["🦙", " 👍🏽"], Pieces(qwen, "🦙 👍🏽"));
    }

    [Fact]
    public void Contractions_ignore_case_only_in_the_modern_patterns()
    {
        Assert.Equal(["DON", "'T"], Pieces(new PatternSplitter(PretokenizerPattern.Qwen2), "DON'T"));
        Assert.Equal(["DON", "'", "T"], Pieces(new PatternSplitter(PretokenizerPattern.Gpt2), "DON'T"));
    }

    private static List<string> Pieces(ISplitter splitter, string text)
    {
        var output = new List<(int Start, int Length)>();
        splitter.Split(text, 0, text.Length, output, long.MaxValue);
        return [.. output.Select(p => text.Substring(p.Start, p.Length))];
    }
}
