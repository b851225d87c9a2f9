using System.Text.RegularExpressions;

namespace Retort.Distillation.Evaluation;

/// <summary>
/// The three answers of a yes/no question asked of premises: 会 / 是 / yes, 不会 / 不是 / no, and
/// 不一定 / not necessarily. Chinese and English answers compare with each other.
/// </summary>
internal static partial class Verdict
{
    public enum Kind { Yes, No, Maybe }

    /// <summary>The references that make an item a verdict question.</summary>
    private static readonly Dictionary<string, Kind> References = new(StringComparer.Ordinal)
    {
        ["会"] = Kind.Yes, ["是"] = Kind.Yes, ["能"] = Kind.Yes, ["yes"] = Kind.Yes,
        ["不会"] = Kind.No, ["不是"] = Kind.No, ["不能"] = Kind.No, ["no"] = Kind.No,
        ["不一定"] = Kind.Maybe, ["not necessarily"] = Kind.Maybe,
    };

    public static Kind? OfReference(string reference) =>
        References.TryGetValue(Trim(reference).ToLowerInvariant(), out var kind) ? kind : null;

    /// <summary>
    /// What an answer says: a leading verdict word decides ("No, Mimi cannot fly", "不一定。"); otherwise
    /// "maybe" phrases win over negations, which win over affirmations ("小白不一定会飞" is a maybe,
    /// "咪咪不会飞" a no, "咪咪会飞" a yes). Null when the text holds none.
    /// </summary>
    public static Kind? Classify(string text)
    {
        string t = Lead().Replace(Trim(text).ToLowerInvariant(), "");
        var leading = LeadingWord().Match(t);
        if (leading.Success) return Of(leading.Value);
        if (MaybePattern().IsMatch(t)) return Kind.Maybe;
        if (NoPattern().IsMatch(t)) return Kind.No;
        if (YesPattern().IsMatch(t)) return Kind.Yes;
        return null;
    }

    /// <summary>The last line of a text that states a verdict (the answer after any working), or null.</summary>
    public static string? LastStated(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (int i = lines.Length - 1; i >= 0; i--)
            if (Classify(lines[i]) != null) return lines[i];
        return null;
    }

    private static Kind Of(string word) =>
        MaybePattern().IsMatch(word) ? Kind.Maybe : NoPattern().IsMatch(word) ? Kind.No : Kind.Yes;

    private static string Trim(string text) => text.Trim().Trim('*', '$', ' ').TrimEnd('.', '。', '!', '！', '?', '？').Trim();

    // "答案是：", "the answer is", "Answer:" and Markdown emphasis before the verdict.
    [GeneratedRegex(@"^(?:\*+|\s|答案是|答案为|答案|答|所以|因此|so\b|therefore\b|the answer is|final answer|answer|[:：,，])+")]
    private static partial Regex Lead();

    [GeneratedRegex(@"^(?:not necessarily|yes|no(?![a-z])|不一定|未必|不会|不是|不能|会|是|能)")]
    private static partial Regex LeadingWord();

    [GeneratedRegex(@"not necessarily|cannot be determined|can't be determined|cannot tell|can't tell|cannot be sure|not certain|uncertain|unknown|undetermined|not enough information|it depends|maybe|不一定|未必|无法确定|不能确定|不确定|无法判断|不能判断|不能肯定|无法得知|可能会也可能不会")]
    private static partial Regex MaybePattern();

    [GeneratedRegex(@"\bno\b|\bnot\b|cannot|can't|isn't|\bfalse\b|不会|不是|不能|不可能|否")]
    private static partial Regex NoPattern();

    [GeneratedRegex(@"\byes\b|\btrue\b|\bcan\b|\bmust\b|\bis\b|会|是|能|对")]
    private static partial Regex YesPattern();
}
