using System.Globalization;
using System.Text.RegularExpressions;

namespace Retort.Distillation.Evaluation;

/// <summary>
/// Answers that are counts with names, "鸡23只，兔12只" or "23 chickens, 12 rabbits": equal when every
/// name of the reference gets the same count, whatever the order and wording ("兔子12只，鸡23只",
/// "鸡有23只，兔有12只", "There are 23 chickens and 12 rabbits", "chickens: 23, rabbits: 12").
/// English names compare without a final s (chicken = chickens); Chinese ones by containment (兔 in 兔子).
/// </summary>
internal static partial class LabelledCounts
{
    /// <summary>The names and counts of a reference, or null when it is not two or more labelled counts.</summary>
    public static IReadOnlyList<(string Name, long Count)>? OfReference(string reference)
    {
        string text = reference.Trim();
        var zh = ZhReference().Match(text);
        var pairs = new List<(string, long)>();
        if (zh.Success)
        {
            for (int i = 0; i < zh.Groups["name"].Captures.Count; i++)
                pairs.Add((zh.Groups["name"].Captures[i].Value, long.Parse(zh.Groups["count"].Captures[i].Value, CultureInfo.InvariantCulture)));
        }
        else
        {
            var en = EnReference().Match(text);
            if (!en.Success) return null;
            for (int i = 0; i < en.Groups["name"].Captures.Count; i++)
                pairs.Add((Stem(en.Groups["name"].Captures[i].Value), long.Parse(en.Groups["count"].Captures[i].Value, CultureInfo.InvariantCulture)));
        }
        return pairs.Count >= 2 && pairs.Select(p => p.Item1).Distinct().Count() == pairs.Count ? pairs : null;
    }

    /// <summary>
    /// The count the text gives each name: when the text starts with a number, a name takes the number
    /// before it ("23只鸡"), otherwise a number takes the name before it ("鸡23只", "chickens: 23"); a later
    /// statement overrides an earlier one, so a conclusion after working counts.
    /// </summary>
    public static Dictionary<string, long> Read(string text, IReadOnlyList<string> names)
    {
        var tokens = new List<(string? Name, long? Number)>();
        foreach (Match m in TokenPattern().Matches(text))
        {
            if (m.Groups["number"].Success)
            {
                if (long.TryParse(m.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n)) tokens.Add((null, n));
            }
            else if (m.Groups["word"].Success)
            {
                string stem = Stem(m.Value);
                if (names.Contains(stem)) tokens.Add((stem, null));
            }
            else
            {
                // A run of Chinese characters: every name it contains, in order of appearance.
                var found = names.SelectMany(name => AllIndexes(m.Value, name).Select(at => (at, name))).OrderBy(f => f.at);
                foreach (var (_, name) in found) tokens.Add((name, null));
            }
        }
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        if (tokens.Count == 0) return counts;
        bool numberFirst = tokens[0].Number != null;
        string? lastName = null;
        long? lastNumber = null;
        foreach (var (name, number) in tokens)
        {
            if (numberFirst)
            {
                if (number != null) lastNumber = number;
                else if (lastNumber is long n) { counts[name!] = n; lastNumber = null; }
            }
            else
            {
                if (name != null) lastName = name;
                else if (lastName != null) { counts[lastName] = number!.Value; lastName = null; }
            }
        }
        return counts;
    }

    public static bool Equivalent(string candidate, IReadOnlyList<(string Name, long Count)> reference)
    {
        var counts = Read(candidate, reference.Select(r => r.Name).ToList());
        return reference.All(r => counts.TryGetValue(r.Name, out long n) && n == r.Count);
    }

    private static IEnumerable<int> AllIndexes(string text, string name)
    {
        for (int at = text.IndexOf(name, StringComparison.Ordinal); at >= 0; at = text.IndexOf(name, at + name.Length, StringComparison.Ordinal))
            yield return at;
    }

    /// <summary>"Chickens" → "chicken"; Chinese names unchanged.</summary>
    private static string Stem(string name)
    {
        string lower = name.ToLowerInvariant();
        return lower.Length > 3 && lower.EndsWith('s') && lower.All(char.IsAsciiLetter) ? lower[..^1] : lower;
    }

    [GeneratedRegex(@"^(?:\s*(?<name>\p{IsCJKUnifiedIdeographs}+?)\s*(?<count>\d+)\s*只\s*[，,、；;和]?)+$")]
    private static partial Regex ZhReference();

    [GeneratedRegex(@"^(?:\s*(?<count>\d+)\s+(?<name>[A-Za-z]+)\s*(?:,|;|\band\b)?)+$")]
    private static partial Regex EnReference();

    [GeneratedRegex(@"(?<number>\d+)|(?<word>[A-Za-z]+)|\p{IsCJKUnifiedIdeographs}+")]
    private static partial Regex TokenPattern();
}
