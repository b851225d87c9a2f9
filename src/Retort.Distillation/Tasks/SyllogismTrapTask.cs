namespace Retort.Distillation.Tasks;

/// <summary>
/// Syllogisms and traps about one individual, answered by the premises alone (they are often
/// counterfactual: "if all cats could fly"): valid inferences (all A can P, x is an A → yes), the classic
/// fallacies (x is not an A, or x can P and is it an A? → not necessarily), negations (no A can P → no),
/// "some", and chains through a middle category (difficulty 3). Answers: 会 / 不会 / 是 / 不是 / 不一定,
/// yes / no / not necessarily. The solution restates the premises in one fixed form, then one rule per line:
/// <code>
/// premises: all cats can fly; Mimi is a cat
/// Mimi is a cat, all cats can fly → Mimi can fly
/// </code>
/// </summary>
internal static class SyllogismTrapTask
{
    private enum Verdict { Yes, No, Maybe }

    /// <summary>A syllogism's shape: the premises about A (and the middle category B), the fact about x, and what is asked.</summary>
    private enum Form
    {
        AllCanIsA, AllCanIsNotA, NoCanIsA,
        AllCanCanIsA, AllCanCannotIsA, NoCanIsNotA, SomeCanIsA, NoCanCanIsA, AllAreIsB,
        ChainIsA, ChainIsBIsA, ChainNoIsA, ChainIsNotA,
    }

    private static readonly Form[][] ByDifficulty =
    [
        [Form.AllCanIsA, Form.AllCanIsNotA, Form.NoCanIsA],
        [Form.AllCanCanIsA, Form.AllCanCannotIsA, Form.NoCanIsNotA, Form.SomeCanIsA, Form.NoCanCanIsA, Form.AllAreIsB],
        [Form.ChainIsA, Form.ChainIsBIsA, Form.ChainNoIsA, Form.ChainIsNotA],
    ];

    private sealed record ZhNoun(string Name, string Classifier);

    private sealed record EnNoun(string Singular, string Plural)
    {
        public string WithArticle => (Singular.Length > 0 && "aeiou".Contains(Singular[0]) ? "an " : "a ") + Singular;
    }

    private static readonly Phrase<ZhNoun> ZhNouns = Phrase.Of(
        [new ZhNoun("猫", "只"), new("狗", "只"), new("鸟", "只"), new("鱼", "条"), new("兔子", "只"), new("企鹅", "只"), new("马", "匹"),
         new("蛇", "条"), new("青蛙", "只"), new("猴子", "只"), new("学生", "个"), new("医生", "位"), new("机器人", "个"), new("龙", "条")],
        new ZhNoun("熊", "只"), new("老师", "位"));
    private static readonly Phrase<string> ZhCategories = Phrase.Of(["宠物", "动物", "哺乳动物", "机器", "艺术家", "运动员"], "精灵");
    private static readonly Phrase<string> ZhAbilities = Phrase.Of(["飞", "游泳", "唱歌", "说话", "爬树", "跳舞", "画画", "下棋", "做饭", "开车"], "写诗", "弹琴");
    private static readonly Phrase<string> ZhNames = Phrase.Of(["咪咪", "小白", "小黑", "旺财", "豆豆", "花花", "乐乐", "阿福", "毛毛", "球球"], "大黄", "点点");

    private static readonly Phrase<EnNoun> EnNouns = Phrase.Of(
        [new EnNoun("cat", "cats"), new("dog", "dogs"), new("bird", "birds"), new("fish", "fish"), new("rabbit", "rabbits"), new("penguin", "penguins"),
         new("horse", "horses"), new("snake", "snakes"), new("frog", "frogs"), new("monkey", "monkeys"), new("student", "students"),
         new("doctor", "doctors"), new("robot", "robots"), new("dragon", "dragons")],
        new EnNoun("bear", "bears"), new("teacher", "teachers"));
    private static readonly Phrase<EnNoun> EnCategories = Phrase.Of(
        [new EnNoun("pet", "pets"), new("animal", "animals"), new("mammal", "mammals"), new("machine", "machines"), new("artist", "artists"), new("athlete", "athletes")],
        new EnNoun("elf", "elves"));
    private static readonly Phrase<string> EnAbilities = Phrase.Of(["fly", "swim", "sing", "talk", "climb trees", "dance", "paint", "play chess", "cook", "drive"], "write poems", "play the piano");
    private static readonly Phrase<string> EnNames = Phrase.Of(["Mimi", "Tom", "Max", "Luna", "Bella", "Leo", "Coco", "Sam", "Kiki", "Rex"], "Milo", "Nina");

    // Wordings of the statements: {A} the category, {c} its classifier, {B} the middle category, {P} the ability, {x} the individual.
    private static readonly Phrase<string> ZhAllCan = Phrase.Of(["所有{A}都会{P}", "每一{c}{A}都会{P}"], "凡是{A}都会{P}");
    private static readonly Phrase<string> ZhNoCan = Phrase.Of(["没有{A}会{P}", "所有{A}都不会{P}"], "任何{A}都不会{P}");
    private static readonly Phrase<string> ZhSomeCan = Phrase.Of(["有些{A}会{P}", "有的{A}会{P}"]);
    private static readonly Phrase<string> ZhAllAre = Phrase.Of(["所有{A}都是{B}", "每一{c}{A}都是{B}"], "凡是{A}都是{B}");
    private static readonly Phrase<string> ZhIsA = Phrase.Of(["{x}是一{c}{A}", "{x}是{A}"]);
    private static readonly Phrase<string> ZhIsNotA = Phrase.Of(["{x}不是{A}", "{x}不是一{c}{A}"]);
    private static readonly Phrase<string> ZhCanQ = Phrase.Of(["{x}会{P}吗？", "{x}一定会{P}吗？", "{x}会不会{P}？"], "{x}能{P}吗？");
    private static readonly Phrase<string> ZhIsAQ = Phrase.Of(["{x}是{A}吗？", "{x}一定是{A}吗？", "{x}是不是{A}？"]);

    private static readonly Phrase<bool> ZhQuestionMark = Phrase.Of([true, true, false]);

    /// <summary>The seed's wording ("如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗") counts twice; the last is reserved.</summary>
    private static readonly Phrase<string> ZhTemplates = Phrase.Of(
        ["如果{premises}，而{fact}，那么{question}", "如果{premises}，而{fact}，那么{question}", "如果{premises}，{fact}，那么{question}", "假设{premises}。{fact}。请问{question}", "已知：{premises}；{fact}。问：{question}", "{premises}。{fact}。{question}"],
        "前提是{premises}，并且{fact}。根据前提，{question}");

    private static readonly Phrase<string> EnAllCan = Phrase.Of(["all {As} {can} {P}", "every {A} {can} {P}"], "each {A} {can} {P}");
    private static readonly Phrase<string> EnNoCan = Phrase.Of(["no {A} {can} {P}", "{As} {cannot} {P}"], "not a single {A} {can} {P}");
    private static readonly Phrase<string> EnSomeCan = Phrase.Of(["some {As} {can} {P}"]);
    private static readonly Phrase<string> EnAllAre = Phrase.Of(["all {As} are {Bs}", "every {A} is {aB}"], "each {A} is {aB}");
    private static readonly Phrase<string> EnIsA = Phrase.Of(["{x} is {aA}"]);
    private static readonly Phrase<string> EnIsNotA = Phrase.Of(["{x} is not {aA}", "{x} isn't {aA}"]);
    private static readonly Phrase<string> EnCanQ = Phrase.Of(["can {x} {P}?", "must {x} be able to {P}?", "is it certain that {x} can {P}?"], "does it follow that {x} can {P}?");
    private static readonly Phrase<string> EnIsAQ = Phrase.Of(["is {x} {aA}?", "must {x} be {aA}?"], "does it follow that {x} is {aA}?");

    /// <summary>{can}: "could" after "If", as in "If all cats could fly".</summary>
    private static readonly Phrase<(string Text, bool Subjunctive)> EnTemplates = Phrase.Of(
        [("If {premises}, and {fact}, {question}", true), ("Suppose {premises}. {fact}. {question}", false),
         ("{premises}. {fact}. {question}", false), ("Premises: {premises}; {fact}. Question: {question}", false)],
        ("Assume that {premises}, and that {fact}. Based only on this, {question}", false));

    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty, Phrasing phrasing)
    {
        var form = rng.Pick(ByDifficulty[Math.Clamp(difficulty, 1, 3) - 1]);
        return lang == TaskLanguage.Zh ? Zh(form, phrasing) : En(form, phrasing);
    }

    private static Verdict Answer(Form form) => form switch
    {
        Form.AllCanIsA or Form.ChainIsA or Form.AllAreIsB => Verdict.Yes,
        Form.NoCanIsA or Form.AllCanCannotIsA or Form.NoCanCanIsA or Form.ChainNoIsA => Verdict.No,
        _ => Verdict.Maybe,
    };

    private static bool UsesCategory(Form form) => form is Form.ChainIsA or Form.ChainIsBIsA or Form.ChainNoIsA or Form.ChainIsNotA or Form.AllAreIsB;

    private static bool UsesAbility(Form form) => form != Form.AllAreIsB;

    /// <summary>Whether the question asks for the ability (can x P?) rather than the category (is x an A?).</summary>
    private static bool AsksAbility(Form form) => form is not (Form.AllCanCanIsA or Form.AllCanCannotIsA or Form.NoCanCanIsA or Form.ChainIsBIsA or Form.AllAreIsB);

    private static TaskContent Zh(Form form, Phrasing phrasing)
    {
        var noun = phrasing.Pick(ZhNouns);
        // A word is drawn only when the form uses it, so a held-out item's reserved word is always in its prompt.
        string category = UsesCategory(form) ? phrasing.Pick(ZhCategories) : "", ability = UsesAbility(form) ? phrasing.Pick(ZhAbilities) : "";
        string x = phrasing.Pick(ZhNames);
        string A = noun.Name, B = category, P = ability;
        string Fill(string text, string subject, string classifier) =>
            text.Replace("{A}", subject).Replace("{c}", classifier).Replace("{B}", B).Replace("{P}", P).Replace("{x}", x);
        string W(Phrase<string> phrase) => Fill(phrasing.Pick(phrase), A, noun.Classifier);
        // A statement about the middle category ("所有宠物都会飞"), whose classifier is the general 个.
        string AboutB(Phrase<string> phrase) => Fill(phrasing.Pick(phrase), B, "个");

        // The premises as written, and in the solution's fixed form.
        var (premises, canonical) = form switch
        {
            Form.AllCanIsA or Form.AllCanIsNotA or Form.AllCanCanIsA or Form.AllCanCannotIsA => ([W(ZhAllCan)], new[] { $"所有{A}都会{P}" }),
            Form.NoCanIsA or Form.NoCanIsNotA or Form.NoCanCanIsA => ([W(ZhNoCan)], [$"没有{A}会{P}"]),
            Form.SomeCanIsA => ([W(ZhSomeCan)], [$"有些{A}会{P}"]),
            Form.AllAreIsB => ([W(ZhAllAre)], [$"所有{A}都是{B}"]),
            Form.ChainNoIsA => (new[] { W(ZhAllAre), AboutB(ZhNoCan) }, new[] { $"所有{A}都是{B}", $"没有{B}会{P}" }),
            _ => ([W(ZhAllAre), AboutB(ZhAllCan)], [$"所有{A}都是{B}", $"所有{B}都会{P}"]),
        };
        var (fact, canonicalFact) = form switch
        {
            Form.AllCanIsNotA or Form.NoCanIsNotA or Form.ChainIsNotA => (W(ZhIsNotA), $"{x}不是{A}"),
            Form.AllCanCanIsA or Form.NoCanCanIsA => ($"{x}会{P}", $"{x}会{P}"),
            Form.AllCanCannotIsA => ($"{x}不会{P}", $"{x}不会{P}"),
            Form.ChainIsBIsA => ($"{x}是{B}", $"{x}是{B}"),
            _ => (W(ZhIsA), $"{x}是{A}"),
        };
        bool asksAbility = AsksAbility(form);
        // "咪咪是宠物吗？": the category asked about is the middle one when the premise puts x's category inside it.
        string question = form == Form.AllAreIsB ? Fill(phrasing.Pick(ZhIsAQ), B, "个") : W(asksAbility ? ZhCanQ : ZhIsAQ);
        string prompt = phrasing.Pick(ZhTemplates)
            .Replace("{premises}", string.Join("，", premises)).Replace("{fact}", fact).Replace("{question}", question);
        // Typed questions often lack the final ？, as the seed's does.
        if (!phrasing.Pick(ZhQuestionMark)) prompt = prompt.TrimEnd('？');

        var verdict = Answer(form);
        string answer = (verdict, asksAbility) switch
        {
            (Verdict.Yes, true) => "会",
            (Verdict.No, true) => "不会",
            (Verdict.Yes, false) => "是",
            (Verdict.No, false) => "不是",
            _ => "不一定",
        };
        string unknown = $"{x}不是{A}，前提没有说不是{A}的会不会{P} → 不一定";
        string[] rules = form switch
        {
            Form.AllCanIsA => [$"{x}是{A}，所有{A}都会{P} → {x}会{P}"],
            Form.AllCanIsNotA or Form.NoCanIsNotA or Form.ChainIsNotA => [unknown],
            Form.NoCanIsA => [$"{x}是{A}，没有{A}会{P} → {x}不会{P}"],
            Form.AllCanCanIsA => [$"{x}会{P}，但会{P}的不一定是{A} → 不一定"],
            Form.AllCanCannotIsA => [$"{x}不会{P}，而所有{A}都会{P} → {x}不是{A}"],
            Form.SomeCanIsA => [$"{x}是{A}，但只有一些{A}会{P} → 不一定"],
            Form.AllAreIsB => [$"{x}是{A}，所有{A}都是{B} → {x}是{B}"],
            Form.NoCanCanIsA => [$"{x}会{P}，而没有{A}会{P} → {x}不是{A}"],
            Form.ChainIsA => [$"{x}是{A}，所有{A}都是{B} → {x}是{B}", $"{x}是{B}，所有{B}都会{P} → {x}会{P}"],
            Form.ChainNoIsA => [$"{x}是{A}，所有{A}都是{B} → {x}是{B}", $"{x}是{B}，没有{B}会{P} → {x}不会{P}"],
            _ => [$"{x}是{B}，但{B}不一定是{A} → 不一定"],
        };
        string reasoning = $"前提：{string.Join("；", canonical)}；{canonicalFact}\n{string.Join("\n", rules)}";
        return new TaskContent(prompt, reasoning, answer);
    }

    private static TaskContent En(Form form, Phrasing phrasing)
    {
        var noun = phrasing.Pick(EnNouns);
        var category = UsesCategory(form) ? phrasing.Pick(EnCategories) : new EnNoun("", "");
        string P = UsesAbility(form) ? phrasing.Pick(EnAbilities) : "", x = phrasing.Pick(EnNames);
        var (template, subjunctive) = phrasing.Pick(EnTemplates);
        string can = subjunctive ? "could" : "can", cannot = subjunctive ? "could not" : "cannot";
        string Fill(string text, EnNoun a) => text
            .Replace("{As}", a.Plural).Replace("{aA}", a.WithArticle).Replace("{A}", a.Singular)
            .Replace("{Bs}", category.Plural).Replace("{aB}", category.WithArticle)
            .Replace("{cannot}", cannot).Replace("{can}", can).Replace("{P}", P).Replace("{x}", x);
        string W(Phrase<string> phrase, EnNoun? about = null) => Fill(phrasing.Pick(phrase), about ?? noun);
        string As = noun.Plural, Bs = category.Plural, aA = noun.WithArticle, aB = category.WithArticle;

        var (premises, canonical) = form switch
        {
            Form.AllCanIsA or Form.AllCanIsNotA or Form.AllCanCanIsA or Form.AllCanCannotIsA => ([W(EnAllCan)], new[] { $"all {As} can {P}" }),
            Form.NoCanIsA or Form.NoCanIsNotA or Form.NoCanCanIsA => ([W(EnNoCan)], [$"no {noun.Singular} can {P}"]),
            Form.SomeCanIsA => ([W(EnSomeCan)], [$"some {As} can {P}"]),
            Form.AllAreIsB => ([W(EnAllAre)], [$"all {As} are {Bs}"]),
            Form.ChainNoIsA => (new[] { W(EnAllAre), W(EnNoCan, category) }, new[] { $"all {As} are {Bs}", $"no {category.Singular} can {P}" }),
            _ => ([W(EnAllAre), W(EnAllCan, category)], [$"all {As} are {Bs}", $"all {Bs} can {P}"]),
        };
        var (fact, canonicalFact) = form switch
        {
            Form.AllCanIsNotA or Form.NoCanIsNotA or Form.ChainIsNotA => (W(EnIsNotA), $"{x} is not {aA}"),
            Form.AllCanCanIsA or Form.NoCanCanIsA => ($"{x} can {P}", $"{x} can {P}"),
            Form.AllCanCannotIsA => ($"{x} cannot {P}", $"{x} cannot {P}"),
            Form.ChainIsBIsA => ($"{x} is {aB}", $"{x} is {aB}"),
            _ => (W(EnIsA), $"{x} is {aA}"),
        };
        bool asksAbility = AsksAbility(form);
        string question = form == Form.AllAreIsB ? W(EnIsAQ, category) : W(asksAbility ? EnCanQ : EnIsAQ);
        string joined = string.Join(" and ", premises);
        string prompt = template.Replace("{premises}", joined).Replace("{fact}", fact).Replace("{question}", question);
        prompt = Capitalize(prompt);
        // Sentences after the first start with a capital too ("Suppose all cats can fly. Mimi is a cat. Can Mimi fly?").
        prompt = string.Join(". ", prompt.Split(". ").Select(Capitalize));

        string answer = Answer(form) switch { Verdict.Yes => "yes", Verdict.No => "no", _ => "not necessarily" };
        string unknown = $"{x} is not {aA}, and the premises say nothing about what is not {aA} → not necessarily";
        string[] rules = form switch
        {
            Form.AllCanIsA => [$"{x} is {aA}, all {As} can {P} → {x} can {P}"],
            Form.AllCanIsNotA or Form.NoCanIsNotA or Form.ChainIsNotA => [unknown],
            Form.NoCanIsA => [$"{x} is {aA}, no {noun.Singular} can {P} → {x} cannot {P}"],
            Form.AllCanCanIsA => [$"{x} can {P}, but what can {P} need not be {aA} → not necessarily"],
            Form.AllCanCannotIsA => [$"{x} cannot {P}, and all {As} can {P} → {x} is not {aA}"],
            Form.SomeCanIsA => [$"{x} is {aA}, but only some {As} can {P} → not necessarily"],
            Form.AllAreIsB => [$"{x} is {aA}, all {As} are {Bs} → {x} is {aB}"],
            Form.NoCanCanIsA => [$"{x} can {P}, and no {noun.Singular} can {P} → {x} is not {aA}"],
            Form.ChainIsA => [$"{x} is {aA}, all {As} are {Bs} → {x} is {aB}", $"{x} is {aB}, all {Bs} can {P} → {x} can {P}"],
            Form.ChainNoIsA => [$"{x} is {aA}, all {As} are {Bs} → {x} is {aB}", $"{x} is {aB}, no {category.Singular} can {P} → {x} cannot {P}"],
            _ => [$"{x} is {aB}, but {aB} need not be {aA} → not necessarily"],
        };
        string reasoning = $"premises: {string.Join("; ", canonical)}; {canonicalFact}\n{string.Join("\n", rules)}";
        return new TaskContent(prompt, reasoning, answer);
    }

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
