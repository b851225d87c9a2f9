using System.Text.RegularExpressions;

namespace Retort.Distillation.Evaluation;

/// <summary>
/// Finds the final answer in a model's output, in order of how explicit it is: the last \boxed{} (nested
/// braces allowed), a GSM8K-style "#### X" line, then for multiple-choice references a stated choice
/// letter (A–E), and otherwise the last number (integers, decimals, fractions a/b and \frac{a}{b}, percentages).
/// Verdicts, labelled counts and code have their own readers (<see cref="Extract(string, string)"/>, <see cref="ExtractCode"/>).
/// </summary>
public static partial class AnswerExtractor
{
    /// <summary>
    /// The final answer in the form <paramref name="reference"/> has: a choice letter, a verdict
    /// (会 / 不一定 / yes / not necessarily: the last line stating one), labelled counts ("鸡23只，兔12只":
    /// the whole answer, read by name), or a number.
    /// </summary>
    public static string? Extract(string output, string reference)
    {
        if (string.IsNullOrWhiteSpace(output)) return null;
        if (Verdict.OfReference(reference) != null)
            return LastBoxed(output)?.Trim() ?? Verdict.LastStated(output);
        if (LabelledCounts.OfReference(reference) != null)
            return (LastBoxed(output) ?? output).Trim();
        return Extract(output, AnswerNormalizer.IsChoice(reference));
    }

    /// <summary>
    /// The code of an answer: the last ```python (or plain ```) block, else everything from the first
    /// line that starts a definition; null when there is neither.
    /// </summary>
    public static string? ExtractCode(string output)
    {
        var blocks = CodeBlockPattern().Matches(output);
        if (blocks.Count > 0)
        {
            var python = blocks.Where(b => b.Groups[1].Value.Trim().ToLowerInvariant() is "python" or "py" or "python3").ToList();
            return (python.Count > 0 ? python[^1] : blocks[^1]).Groups[2].Value;
        }
        var definition = DefinitionPattern().Match(output);
        return definition.Success ? output[definition.Index..].TrimEnd() : null;
    }

    public static string? Extract(string output, bool choiceExpected = false)
    {
        if (string.IsNullOrWhiteSpace(output)) return null;
        if (LastBoxed(output) is { } boxed) return boxed.Trim();
        var hashes = HashesPattern().Matches(output);
        if (hashes.Count > 0) return hashes[^1].Groups[1].Value.Trim();
        if (choiceExpected) return Choice(output);
        var numbers = NumberPattern().Matches(output);
        return numbers.Count > 0 ? numbers[^1].Value.Trim() : null;
    }

    /// <summary>The content of the last \boxed{…} or \fbox{…}, braces balanced; null when there is none (or it is not closed).</summary>
    public static string? LastBoxed(string text)
    {
        int at = Math.Max(text.LastIndexOf("\\boxed", StringComparison.Ordinal), text.LastIndexOf("\\fbox", StringComparison.Ordinal));
        while (at >= 0)
        {
            int open = text.IndexOf('{', at);
            if (open >= 0 && text[at..open].TrimEnd() is "\\boxed" or "\\fbox" && Balanced(text, open) is { } content) return content;
            if (at == 0) break;
            at = Math.Max(text.LastIndexOf("\\boxed", at - 1, StringComparison.Ordinal), text.LastIndexOf("\\fbox", at - 1, StringComparison.Ordinal));
        }
        // "\boxed 5" (no braces) also occurs in MATH solutions.
        var bare = BareBoxedPattern().Matches(text);
        return bare.Count > 0 ? bare[^1].Groups[1].Value : null;
    }

    /// <summary>The text between the brace at <paramref name="open"/> and its matching close.</summary>
    internal static string? Balanced(string text, int open)
    {
        int depth = 0;
        for (int i = open; i < text.Length; i++)
        {
            if (text[i] == '{') depth++;
            else if (text[i] == '}' && --depth == 0) return text[(open + 1)..i];
        }
        return null;
    }

    private static string? Choice(string text)
    {
        var stated = StatedChoicePattern().Matches(text);
        if (stated.Count > 0) return stated[^1].Groups[1].Value;
        var letters = LoneLetterPattern().Matches(text);
        return letters.Count > 0 ? letters[^1].Value : null;
    }

    [GeneratedRegex(@"```[ \t]*([A-Za-z0-9]*)[ \t]*\r?\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlockPattern();

    [GeneratedRegex(@"^(?:def|import|from) ", RegexOptions.Multiline)]
    private static partial Regex DefinitionPattern();

    [GeneratedRegex(@"####\s*([^\n]+)")]
    private static partial Regex HashesPattern();

    [GeneratedRegex(@"\\boxed ([^\s$]+)")]
    private static partial Regex BareBoxedPattern();

    // \frac{a}{b} first, then a/b, then plain numbers with thousands separators, decimals and a percent sign.
    [GeneratedRegex(@"-?\\[dt]?frac\{-?\d+\}\{\d+\}|-?\d+(?:,\d{3})*(?:\.\d+)?\s*/\s*\d+(?!\d|\.\d)|-?\d+(?:,\d{3})+(?:\.\d+)?\s*\\?%?|-?\d*\.?\d+\s*\\?%?")]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"(?:answer is|answer:|Answer:|答案是|答案为|答案：|答案:|选)\s*[:：]?\s*\(?\**([A-E])(?![A-Za-z])")]
    private static partial Regex StatedChoicePattern();

    [GeneratedRegex(@"(?<![A-Za-z])[A-E](?![A-Za-z])")]
    private static partial Regex LoneLetterPattern();
}
