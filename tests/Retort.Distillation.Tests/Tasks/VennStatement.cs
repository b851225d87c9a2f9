using System.Text.RegularExpressions;

namespace Retort.Distillation.Tests.Tasks;

/// <summary>A categorical statement parsed from a syllogism's text, and a brute-force check over Venn diagrams.</summary>
internal sealed record VennStatement(string Quantifier, string X, string Y)
{
    public static VennStatement Parse(string text, bool english)
    {
        (string Pattern, string Q)[] forms = english
            ? [(@"^All (\w+) are (\w+)\.$", "all"), (@"^No (\w+) are (\w+)\.$", "no"), (@"^Some (\w+) are not (\w+)\.$", "some-not"), (@"^Some (\w+) are (\w+)\.$", "some")]
            : [("^所有(.+)都是(.+)。$", "all"), ("^没有(.+)是(.+)。$", "no"), ("^有些(.+)不是(.+)。$", "some-not"), ("^有些(.+)是(.+)。$", "some")];
        foreach (var (pattern, q) in forms)
        {
            var m = Regex.Match(text, pattern);
            if (m.Success) return new VennStatement(q, m.Groups[1].Value, m.Groups[2].Value);
        }
        throw new Xunit.Sdk.XunitException($"not a categorical statement: '{text}'");
    }

    /// <summary>
    /// True when the conclusion is true in every assignment of inhabited regions (2^8 of them for three
    /// terms) that makes the premises true; <paramref name="requireNonEmpty"/> only counts assignments
    /// in which every term has a member.
    /// </summary>
    public static bool Follows(IReadOnlyList<string> terms, IReadOnlyList<VennStatement> premises, VennStatement conclusion, bool requireNonEmpty)
    {
        for (int model = 0; model < 1 << (1 << terms.Count); model++)
        {
            var inhabited = Enumerable.Range(0, 1 << terms.Count).Where(r => (model >> r & 1) == 1).ToList();
            if (requireNonEmpty && !Enumerable.Range(0, terms.Count).All(t => inhabited.Any(r => (r >> t & 1) == 1))) continue;
            if (premises.All(p => p.IsTrue(terms, inhabited)) && !conclusion.IsTrue(terms, inhabited)) return false;
        }
        return true;
    }

    private bool IsTrue(IReadOnlyList<string> terms, List<int> inhabited)
    {
        int x = terms.ToList().IndexOf(X), y = terms.ToList().IndexOf(Y);
        Assert.True(x >= 0 && y >= 0);
        bool both = inhabited.Any(r => (r >> x & 1) == 1 && (r >> y & 1) == 1);
        bool xNotY = inhabited.Any(r => (r >> x & 1) == 1 && (r >> y & 1) == 0);
        return Quantifier switch
        {
            "all" => !xNotY,
            "no" => !both,
            "some" => both,
            _ => xNotY,
        };
    }
}
