using System.Text.RegularExpressions;

namespace Retort.Hub.Hub;

/// <summary>The quantization names GGUF repos put in their file names (<c>model-Q4_K_M.gguf</c>, <c>model.Q8_0.gguf</c>, <c>-IQ4_XS-00001-of-00002.gguf</c>).</summary>
internal static partial class QuantTags
{
    /// <summary>The tag a GGUF file name carries (upper case), or null; the last one wins since quant names come last.</summary>
    public static string? Of(string path)
    {
        var name = SplitSuffix().Replace(Path.GetFileName(path), "");
        if (name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) name = name[..^5];
        var matches = TagPattern().Matches(name);
        return matches.Count == 0 ? null : matches[^1].Value.ToUpperInvariant();
    }

    /// <summary>
    /// True when <paramref name="tag"/> appears in the path as a whole tag, case-insensitive: Q4_K does not match
    /// Q4_K_M, and Q4_XS does not match IQ4_XS.
    /// </summary>
    public static bool Carries(string path, string tag) =>
        Regex.IsMatch(path, $"(?<![A-Za-z0-9]){Regex.Escape(tag)}(?![A-Za-z0-9_])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>The name of a split GGUF without its <c>-0000k-of-0000n</c> part, and the part numbers (1 of 1 when not split).</summary>
    public static (string Group, int Part, int Parts) Split(string path)
    {
        var m = SplitSuffix().Match(path);
        if (!m.Success) return (path, 1, 1);
        return (path[..m.Index] + ".gguf", int.Parse(m.Groups["k"].Value), int.Parse(m.Groups["n"].Value));
    }

    [GeneratedRegex(@"(?<![A-Za-z0-9])(I?Q\d+(?:_[A-Z0-9]+)*|TQ\d_\d|BF16|FP16|F16|FP32|F32)(?![A-Za-z0-9])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"-(?<k>\d{5})-of-(?<n>\d{5})\.gguf$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SplitSuffix();
}
