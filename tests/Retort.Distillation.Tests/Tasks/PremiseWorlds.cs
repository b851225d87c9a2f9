using System.Text.RegularExpressions;

namespace Retort.Distillation.Tests.Tasks;

/// <summary>
/// Reads a syllogism-trap prompt back into statements about categories, one ability and one individual,
/// and answers its question by checking every world: which combinations of the properties are inhabited,
/// and which one the individual has. Yes when every world that satisfies the premises gives the individual
/// the asked property, no when none does, not necessarily otherwise.
/// </summary>
internal static partial class PremiseWorlds
{
    private enum Quantifier { All, No, Some }

    /// <summary>"all X are/can Y", "no X can Y", "some X can Y" between two properties.</summary>
    private sealed record Statement(Quantifier Q, string X, string Y);

    /// <summary>The individual has (or lacks) a property.</summary>
    private sealed record Fact(string Property, bool Has);

    public static string Solve(string prompt, bool zh)
    {
        var (statements, facts, asked, abilityQuestion) = zh ? ReadZh(prompt) : ReadEn(prompt);
        var properties = statements.SelectMany(s => new[] { s.X, s.Y }).Concat(facts.Select(f => f.Property)).Append(asked).Distinct().ToList();
        Assert.InRange(properties.Count, 2, 3);
        int regions = 1 << properties.Count;
        bool Has(int region, string property) => (region >> properties.IndexOf(property) & 1) == 1;
        bool any = false, always = true, never = true;
        for (int inhabited = 1; inhabited < 1 << regions; inhabited++)
        {
            var live = Enumerable.Range(0, regions).Where(r => (inhabited >> r & 1) == 1).ToList();
            bool holds = statements.All(s => s.Q switch
            {
                Quantifier.All => !live.Any(r => Has(r, s.X) && !Has(r, s.Y)),
                Quantifier.No => !live.Any(r => Has(r, s.X) && Has(r, s.Y)),
                _ => live.Any(r => Has(r, s.X) && Has(r, s.Y)),
            });
            if (!holds) continue;
            foreach (int x in live.Where(r => facts.All(f => Has(r, f.Property) == f.Has)))
            {
                any = true;
                if (Has(x, asked)) never = false;
                else always = false;
            }
        }
        Assert.True(any, $"the premises of '{prompt}' contradict each other");
        return (always, never, zh, abilityQuestion) switch
        {
            (true, _, true, true) => "会",
            (true, _, true, false) => "是",
            (_, true, true, true) => "不会",
            (_, true, true, false) => "不是",
            (_, _, true, _) => "不一定",
            (true, _, false, _) => "yes",
            (_, true, false, _) => "no",
            _ => "not necessarily",
        };
    }

    private static (List<Statement>, List<Fact>, string Asked, bool Ability) ReadZh(string prompt)
    {
        string[] frames = ["如果", "而", "那么", "假设", "请问", "已知", "问", "前提是", "并且", "根据前提"];
        var clauses = Regex.Split(prompt, "[，。；：？]").Select(c =>
        {
            string t = c.Trim();
            for (bool again = true; again;)
            {
                again = false;
                foreach (string f in frames)
                    if (t.StartsWith(f, StringComparison.Ordinal)) { t = t[f.Length..]; again = true; }
            }
            return t;
        }).Where(c => c.Length > 0).ToList();
        string question = clauses[^1];
        string x;
        string asked;
        bool ability;
        if (Regex.Match(question, "^(.+?)会不会(.+)$") is { Success: true } q1) (x, asked, ability) = (q1.Groups[1].Value, "会" + q1.Groups[2].Value, true);
        else if (Regex.Match(question, "^(.+?)(?:一定)?(?:会|能)(.+?)吗$") is { Success: true } q2) (x, asked, ability) = (q2.Groups[1].Value, "会" + q2.Groups[2].Value, true);
        else if (Regex.Match(question, "^(.+?)是不是(.+)$") is { Success: true } q3) (x, asked, ability) = (q3.Groups[1].Value, q3.Groups[2].Value, false);
        else if (Regex.Match(question, "^(.+?)(?:一定)?是(.+?)吗$") is { Success: true } q4) (x, asked, ability) = (q4.Groups[1].Value, q4.Groups[2].Value, false);
        else throw new Xunit.Sdk.XunitException($"no question in '{prompt}'");

        var statements = new List<Statement>();
        var facts = new List<Fact>();
        const string classifier = "(?:一[只条匹个位])?";
        foreach (string c in clauses.Take(clauses.Count - 1))
        {
            Match m;
            if ((m = Regex.Match(c, $"^(?:所有|任何|每{classifier})(.+?)都不会(.+)$")).Success) statements.Add(new(Quantifier.No, m.Groups[1].Value, "会" + m.Groups[2].Value));
            else if ((m = Regex.Match(c, "^没有(.+?)会(.+)$")).Success) statements.Add(new(Quantifier.No, m.Groups[1].Value, "会" + m.Groups[2].Value));
            else if ((m = Regex.Match(c, $"^(?:所有|凡是|每{classifier})(.+?)都会(.+)$")).Success) statements.Add(new(Quantifier.All, m.Groups[1].Value, "会" + m.Groups[2].Value));
            else if ((m = Regex.Match(c, "^(?:有些|有的)(.+?)会(.+)$")).Success) statements.Add(new(Quantifier.Some, m.Groups[1].Value, "会" + m.Groups[2].Value));
            else if ((m = Regex.Match(c, $"^(?:所有|凡是|每{classifier})(.+?)都是(.+)$")).Success) statements.Add(new(Quantifier.All, m.Groups[1].Value, m.Groups[2].Value));
            else if ((m = Regex.Match(c, $"^{Regex.Escape(x)}不是{classifier}(.+)$")).Success) facts.Add(new(m.Groups[1].Value, false));
            else if ((m = Regex.Match(c, $"^{Regex.Escape(x)}是{classifier}(.+)$")).Success) facts.Add(new(m.Groups[1].Value, true));
            else if ((m = Regex.Match(c, $"^{Regex.Escape(x)}不会(.+)$")).Success) facts.Add(new("会" + m.Groups[1].Value, false));
            else if ((m = Regex.Match(c, $"^{Regex.Escape(x)}会(.+)$")).Success) facts.Add(new("会" + m.Groups[1].Value, true));
            else throw new Xunit.Sdk.XunitException($"cannot read '{c}' in '{prompt}'");
        }
        return (statements, facts, asked, ability);
    }

    private static (List<Statement>, List<Fact>, string Asked, bool Ability) ReadEn(string prompt)
    {
        string[] frames = ["If ", "Suppose ", "Premises: ", "Question: ", "Assume that ", "Based only on this", "and that ", "and "];
        var clauses = Regex.Split(prompt.TrimEnd('?'), @", and that |, and |\. |; | and |, ").Select(c =>
        {
            string t = c.Trim();
            for (bool again = true; again;)
            {
                again = false;
                foreach (string f in frames)
                    if (t.StartsWith(f, StringComparison.OrdinalIgnoreCase)) { t = t[f.Length..]; again = true; }
            }
            return t;
        }).Where(c => c.Length > 0).ToList();
        string question = clauses[^1];
        (string X, string Asked, bool Ability) q;
        Match m;
        if ((m = Regex.Match(question, @"^(?:can (\w+)|must (\w+) be able to|is it certain that (\w+) can|does it follow that (\w+) can) (.+)$", RegexOptions.IgnoreCase)).Success)
            q = (Group(m), "can " + m.Groups[5].Value, true);
        else if ((m = Regex.Match(question, @"^(?:is (\w+)|must (\w+) be|does it follow that (\w+) is) an? (\w+)$", RegexOptions.IgnoreCase)).Success)
            q = (Group(m), Stem(m.Groups[4].Value), false);
        else throw new Xunit.Sdk.XunitException($"no question in '{prompt}'");

        var statements = new List<Statement>();
        var facts = new List<Fact>();
        string x = Regex.Escape(q.X);
        foreach (string c in clauses.Take(clauses.Count - 1))
        {
            const RegexOptions i = RegexOptions.IgnoreCase;
            if ((m = Regex.Match(c, $@"^{x} (?:is not|isn't) an? (\w+)$")).Success) facts.Add(new(Stem(m.Groups[1].Value), false));
            else if ((m = Regex.Match(c, $@"^{x} is an? (\w+)$")).Success) facts.Add(new(Stem(m.Groups[1].Value), true));
            else if ((m = Regex.Match(c, $@"^{x} cannot (.+)$")).Success) facts.Add(new("can " + m.Groups[1].Value, false));
            else if ((m = Regex.Match(c, $@"^{x} can (.+)$")).Success) facts.Add(new("can " + m.Groups[1].Value, true));
            else if ((m = Regex.Match(c, @"^(?:no|not a single) (\w+) (?:can|could) (.+)$", i)).Success) statements.Add(new(Quantifier.No, Stem(m.Groups[1].Value), "can " + m.Groups[2].Value));
            else if ((m = Regex.Match(c, @"^(\w+) (?:cannot|could not) (.+)$", i)).Success) statements.Add(new(Quantifier.No, Stem(m.Groups[1].Value), "can " + m.Groups[2].Value));
            else if ((m = Regex.Match(c, @"^(?:all|every|each) (\w+) (?:can|could) (.+)$", i)).Success) statements.Add(new(Quantifier.All, Stem(m.Groups[1].Value), "can " + m.Groups[2].Value));
            else if ((m = Regex.Match(c, @"^some (\w+) (?:can|could) (.+)$", i)).Success) statements.Add(new(Quantifier.Some, Stem(m.Groups[1].Value), "can " + m.Groups[2].Value));
            else if ((m = Regex.Match(c, @"^all (\w+) are (\w+)$", i)).Success) statements.Add(new(Quantifier.All, Stem(m.Groups[1].Value), Stem(m.Groups[2].Value)));
            else if ((m = Regex.Match(c, @"^(?:every|each) (\w+) is an? (\w+)$", i)).Success) statements.Add(new(Quantifier.All, Stem(m.Groups[1].Value), Stem(m.Groups[2].Value)));
            else throw new Xunit.Sdk.XunitException($"cannot read '{c}' in '{prompt}'");
        }
        return (statements, facts, q.Asked, q.Ability);
    }

    private static string Group(Match m) => m.Groups.Values.Skip(1).First(g => g.Success).Value;

    /// <summary>Singular and plural as one property: cats → cat, elves → elf, fish → fish.</summary>
    private static string Stem(string noun)
    {
        string n = noun.ToLowerInvariant();
        return n.EndsWith("ves", StringComparison.Ordinal) ? n[..^3] + "f" : n.EndsWith('s') ? n[..^1] : n;
    }
}
