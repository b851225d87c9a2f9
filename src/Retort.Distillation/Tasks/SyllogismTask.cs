namespace Retort.Distillation.Tasks;

/// <summary>
/// Categorical syllogisms with made-up category names (so world knowledge cannot help): two premises and
/// four candidate conclusions, exactly one of which follows. Distractors are chosen by checking every
/// arrangement of the three categories, so none of them follows even when all categories are non-empty.
/// </summary>
internal static class SyllogismTask
{
    private enum Quantifier { All, No, Some, SomeNot }

    /// <summary>Terms are indices: 0 = subject S, 1 = middle M, 2 = predicate P.</summary>
    private readonly record struct Statement(Quantifier Q, int X, int Y);

    private sealed record Form(string Name, Statement Major, Statement Minor, Statement Conclusion, string WhyEn, string WhyZh);

    private const int S = 0, M = 1, P = 2;

    private static readonly Form[] Forms =
    [
        new("Barbara", new(Quantifier.All, M, P), new(Quantifier.All, S, M), new(Quantifier.All, S, P),
            "All {S} are {M}, and all {M} are {P}; so all {S} are {P}.",
            "每个{S}都是{M}，而每个{M}都是{P}，所以每个{S}都是{P}。"),
        new("Celarent", new(Quantifier.No, M, P), new(Quantifier.All, S, M), new(Quantifier.No, S, P),
            "All {S} are {M}, and no {M} are {P}; so no {S} can be {P}.",
            "每个{S}都是{M}，而没有{M}是{P}，所以没有{S}是{P}。"),
        new("Darii", new(Quantifier.All, M, P), new(Quantifier.Some, S, M), new(Quantifier.Some, S, P),
            "Some {S} are {M}, and all {M} are {P}; so those {S} are {P}: some {S} are {P}.",
            "有些{S}是{M}，而每个{M}都是{P}，所以这些{S}也是{P}，即有些{S}是{P}。"),
        new("Ferio", new(Quantifier.No, M, P), new(Quantifier.Some, S, M), new(Quantifier.SomeNot, S, P),
            "Some {S} are {M}, and no {M} are {P}; so those {S} are not {P}: some {S} are not {P}.",
            "有些{S}是{M}，而没有{M}是{P}，所以这些{S}不是{P}，即有些{S}不是{P}。"),
        new("Cesare", new(Quantifier.No, P, M), new(Quantifier.All, S, M), new(Quantifier.No, S, P),
            "No {P} are {M}, which means no {M} are {P}; all {S} are {M}, so no {S} are {P}.",
            "没有{P}是{M}，也就是说没有{M}是{P}；每个{S}都是{M}，所以没有{S}是{P}。"),
        new("Camestres", new(Quantifier.All, P, M), new(Quantifier.No, S, M), new(Quantifier.No, S, P),
            "All {P} are {M} and no {S} are {M}; any {S} that were {P} would be {M}, which is impossible, so no {S} are {P}.",
            "每个{P}都是{M}，而没有{S}是{M}；如果某个{S}是{P}，它就是{M}，这不可能，所以没有{S}是{P}。"),
    ];

    private static readonly string[] TermsEn = ["wumps", "zorbs", "blickets", "daxes", "feps", "toves", "grues", "snarks", "glims", "yerts"];
    private static readonly string[] TermsZh = ["乌姆", "佐布", "布利克", "达克斯", "费普", "托夫", "格鲁", "斯纳克", "格林", "叶特"];

    private static readonly Phrase<string> ZhInstruction = Phrase.Of(["请回答正确选项的字母。", "请给出正确选项的字母。"], "只需回答选项字母。");
    private static readonly Phrase<string> EnInstruction = Phrase.Of(["Answer with the letter of the correct option.", "Give the letter of the correct option."], "Reply with the correct option's letter.");

    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty, Phrasing phrasing)
    {
        bool zh = lang == TaskLanguage.Zh;
        var form = Forms[(Math.Clamp(difficulty, 1, 3) - 1) * 2 + rng.Int(0, 1)];
        var pool = Enumerable.Range(0, TermsEn.Length).ToList();
        rng.Shuffle(pool);
        var terms = zh ? TermsZh : TermsEn;
        string[] names = [terms[pool[0]], terms[pool[1]], terms[pool[2]]];

        var premises = new List<Statement> { form.Major, form.Minor };
        if (difficulty >= 2 && rng.Int(0, 1) == 1) premises.Reverse();

        var distractors = CandidateConclusions().Where(c => !FollowsWhenAllNonEmpty(premises, c)).ToList();
        rng.Shuffle(distractors);
        var options = new List<Statement> { form.Conclusion };
        options.AddRange(distractors.Take(3));
        rng.Shuffle(options);
        int correct = options.IndexOf(form.Conclusion);
        char Letter(int i) => (char)('A' + i);

        var prompt = new List<string>();
        for (int i = 0; i < premises.Count; i++)
            prompt.Add(zh ? $"前提{(i == 0 ? "一" : "二")}：{Text(premises[i], names, zh)}" : $"Premise {i + 1}: {Text(premises[i], names, zh)}");
        prompt.Add(zh ? "根据以上前提，下列哪个结论一定成立？" : "Which conclusion follows necessarily from the premises?");
        for (int i = 0; i < options.Count; i++) prompt.Add($"{Letter(i)}. {Text(options[i], names, zh)}");
        prompt.Add(phrasing.Pick(zh ? ZhInstruction : EnInstruction));

        string why = (zh ? form.WhyZh : form.WhyEn).Replace("{S}", names[S]).Replace("{M}", names[M]).Replace("{P}", names[P]);
        var reasoning = new List<string>
        {
            zh ? $"两个前提都涉及{names[M]}，它把{names[S]}和{names[P]}联系起来。" : $"Both premises mention {names[M]}, which links {names[S]} and {names[P]}.",
            why,
            zh ? $"这正是选项{Letter(correct)}：{Text(form.Conclusion, names, zh)}"
               : $"That is option {Letter(correct)}: {Text(form.Conclusion, names, zh)}",
        };
        for (int i = 0; i < options.Count; i++)
        {
            if (i == correct) continue;
            reasoning.Add(zh
                ? $"选项{Letter(i)}（{Text(options[i], names, zh)}）不一定成立：存在满足两个前提但它不成立的情况。"
                : $"Option {Letter(i)} ({Text(options[i], names, zh)}) does not follow: the premises allow a situation where it is false.");
        }
        reasoning.Add(zh ? $"所以答案是 {Letter(correct)}。" : $"So the answer is {Letter(correct)}.");
        return new TaskContent(string.Join("\n", prompt), string.Join("\n", reasoning), Letter(correct).ToString());
    }

    private static IEnumerable<Statement> CandidateConclusions()
    {
        foreach (var q in Enum.GetValues<Quantifier>())
        {
            yield return new Statement(q, S, P);
            yield return new Statement(q, P, S);
        }
    }

    /// <summary>
    /// True when <paramref name="conclusion"/> holds in every arrangement that satisfies the premises and
    /// leaves no category empty. An arrangement says which of the 8 regions of the three-set Venn diagram
    /// are inhabited (bit r of the model: region r, whose bit t says "in category t").
    /// </summary>
    private static bool FollowsWhenAllNonEmpty(IReadOnlyList<Statement> premises, Statement conclusion)
    {
        for (int model = 0; model < 256; model++)
        {
            bool allNonEmpty = Enumerable.Range(0, 3).All(t => Enumerable.Range(0, 8).Any(r => Inhabited(model, r) && (r >> t & 1) == 1));
            if (!allNonEmpty || !premises.All(p => Holds(model, p))) continue;
            if (!Holds(model, conclusion)) return false;
        }
        return true;
    }

    private static bool Inhabited(int model, int region) => (model >> region & 1) == 1;

    private static bool Holds(int model, Statement s)
    {
        bool InX(int r) => (r >> s.X & 1) == 1;
        bool InY(int r) => (r >> s.Y & 1) == 1;
        var regions = Enumerable.Range(0, 8).Where(r => Inhabited(model, r));
        return s.Q switch
        {
            Quantifier.All => !regions.Any(r => InX(r) && !InY(r)),
            Quantifier.No => !regions.Any(r => InX(r) && InY(r)),
            Quantifier.Some => regions.Any(r => InX(r) && InY(r)),
            _ => regions.Any(r => InX(r) && !InY(r)),
        };
    }

    private static string Text(Statement s, string[] names, bool zh)
    {
        string x = names[s.X], y = names[s.Y];
        return (s.Q, zh) switch
        {
            (Quantifier.All, false) => $"All {x} are {y}.",
            (Quantifier.No, false) => $"No {x} are {y}.",
            (Quantifier.Some, false) => $"Some {x} are {y}.",
            (Quantifier.SomeNot, false) => $"Some {x} are not {y}.",
            (Quantifier.All, true) => $"所有{x}都是{y}。",
            (Quantifier.No, true) => $"没有{x}是{y}。",
            (Quantifier.Some, true) => $"有些{x}是{y}。",
            _ => $"有些{x}不是{y}。",
        };
    }
}
