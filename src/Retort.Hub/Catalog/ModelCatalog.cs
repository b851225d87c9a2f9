using Retort.Engine;

namespace Retort.Hub.Catalog;

/// <summary>Built-in short names (ollama style) for the models Retort is made for, mapped to Hugging Face repos.</summary>
public static class ModelCatalog
{
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["deepseek-r1:1.5b"] = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
        ["deepseek-r1:7b"] = "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
        ["deepseek-r1:8b"] = "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
        ["qwen2.5:0.5b"] = "Qwen/Qwen2.5-0.5B-Instruct",
    };

    public static IReadOnlyCollection<string> Names => Aliases.Keys;

    /// <summary>True for names that look like aliases (no slash), so a miss is reported as an unknown alias rather than a repo id.</summary>
    public static bool IsAliasLike(string name) => !name.Contains('/');

    public static bool TryResolve(string alias, out string repo) => Aliases.TryGetValue(alias, out repo!);

    /// <summary>The repo for an alias; an unknown alias fails with the closest known names so a typo is easy to fix.</summary>
    public static string Resolve(string alias)
    {
        if (TryResolve(alias, out var repo)) return repo;
        var close = Suggest(alias);
        var hint = close.Count > 0 ? $"did you mean {string.Join(", ", close)}?" : $"known: {string.Join(", ", Aliases.Keys)}";
        throw new RetortException($"Unknown model alias '{alias}': expected a catalog name or an owner/name repo id; {hint}");
    }

    /// <summary>Catalog names within a small edit distance of the input, closest first.</summary>
    public static IReadOnlyList<string> Suggest(string input, int maxDistance = 3)
    {
        var lower = input.ToLowerInvariant();
        return Aliases.Keys
            .Select(k => (Name: k, Distance: EditDistance(lower, k.ToLowerInvariant())))
            .Where(x => x.Distance <= Math.Max(maxDistance, lower.Length / 3))
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal)
            .Select(x => x.Name)
            .ToList();
    }

    internal static int EditDistance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
