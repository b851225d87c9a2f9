using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>
/// 鸡兔同笼: two kinds of animal, one with 2 legs and one with 4, the heads (or animals) and legs counted;
/// asked for the four-legged ones, the two-legged ones, or both. Many wordings (templates × synonyms, in
/// either order of the numbers, other animal pairs); the solution is always the same five lines:
/// <code>
/// heads 35, legs 94, find rabbits
/// all chickens: 35×2: 5×2=10, write 0 carry 1; 3×2+1=7, write 7 → 70
/// extra legs: 94-70: 4-0=4, write 4; 9-7=2, write 2 → 24
/// rabbits: 24÷2: 2÷2=1 r0; 4÷2=2 r0 → 12
/// chickens: 35-12: 5-2=3, write 3; 3-1=2, write 2 → 23   (when chickens are asked for)
/// </code>
/// The answer is the asked count ("12"), or both labelled ("23 chickens, 12 rabbits", "鸡23只，兔12只").
/// </summary>
internal static class ChickensRabbitsTask
{
    /// <summary>A Chinese animal: its short name (what solutions and answers use) and the forms a prompt may use.</summary>
    private sealed record ZhAnimal(string Short, string[] Forms);

    private sealed record EnAnimal(string Plural, string Singular);

    private static readonly ZhAnimal Chicken = new("鸡", ["鸡", "小鸡"]), Duck = new("鸭", ["鸭", "鸭子"]), Goose = new("鹅", ["鹅", "大鹅"]);
    private static readonly ZhAnimal Rabbit = new("兔", ["兔", "兔子"]), Sheep = new("羊", ["羊", "小羊"]), Pig = new("猪", ["猪", "小猪"]), Dog = new("狗", ["狗", "小狗"]);

    private static readonly Phrase<(ZhAnimal Two, ZhAnimal Four)> ZhPairs = Phrase.Of(
        [(Chicken, Rabbit), (Chicken, Rabbit), (Chicken, Rabbit), (Duck, Sheep), (Chicken, Pig), (Goose, Dog), (Duck, Rabbit), (Goose, Sheep)],
        (Chicken, Dog), (Duck, Pig));

    private static readonly EnAnimal Chickens = new("chickens", "chicken"), Ducks = new("ducks", "duck"), Turkeys = new("turkeys", "turkey");
    private static readonly EnAnimal Rabbits = new("rabbits", "rabbit"), Goats = new("goats", "goat"), Pigs = new("pigs", "pig"), Dogs = new("dogs", "dog");

    private static readonly Phrase<(EnAnimal Two, EnAnimal Four)> EnPairs = Phrase.Of(
        [(Chickens, Rabbits), (Chickens, Rabbits), (Chickens, Rabbits), (Ducks, Goats), (Chickens, Pigs), (Turkeys, Dogs), (Ducks, Rabbits), (Turkeys, Goats)],
        (Chickens, Dogs), (Ducks, Pigs));

    private enum Ask { Four, Two, Both }

    /// <summary>Stands in for a slot to see whether a template uses it.</summary>
    private const string Unused = "\u0001";

    /// <summary>The wording of one Chinese prompt: names as written, numbers, leg words, the question.</summary>
    private sealed record ZhSlots(string X, string Y, string Pair, long H, long L, string Place, string Legs, string LegNoun, string LegCounter, string Ask);

    private static readonly Func<ZhSlots, string> ZhSeedOne = s => $"{s.Place}有若干只{s.X}和{s.Y}，从上面数有{S(s.H)}个头，从下面数有{S(s.L)}{s.Legs}。{s.Ask}";
    private static readonly Func<ZhSlots, string> ZhSeedTwo = s => $"{s.Pair}同笼，共有 {S(s.H)} 个头，{S(s.L)} {s.Legs}，{s.Ask}";

    /// <summary>The seed's two wordings count twice; the last two are reserved for held-out prompts.</summary>
    private static readonly Phrase<Func<ZhSlots, string>> ZhTemplates = Phrase.Of<Func<ZhSlots, string>>(
        [
            ZhSeedOne, ZhSeedOne, ZhSeedTwo, ZhSeedTwo,
            s => $"{s.Pair}同笼，共有{S(s.H)}个头，{S(s.L)}{s.Legs}，{s.Ask}",
            s => $"{s.X}和{s.Y}关在同一个笼子里，一共有{S(s.H)}个头、{S(s.L)}{s.Legs}。{s.Ask}",
            s => $"{s.Place}的{s.X}和{s.Y}一共有{S(s.L)}{s.Legs}，{S(s.H)}个头。{s.Ask}",
            s => $"{s.Place}有{s.X}和{s.Y}共{S(s.H)}只，它们一共有{S(s.L)}{s.Legs}。{s.Ask}",
            s => $"数一数{s.X}和{s.Y}：头有{S(s.H)}个，{s.LegNoun}有{S(s.L)}{s.LegCounter}。{s.Ask}",
        ],
        s => $"今有{s.Pair}同笼，上有{S(s.H)}头，下有{S(s.L)}足。{s.Ask}",
        s => $"一共有{S(s.H)}只{s.X}和{s.Y}，数了数共有{S(s.L)}{s.Legs}。{s.Ask}");

    private static readonly Phrase<string> ZhPlaces = Phrase.Of(["笼子里", "一个笼子里", "农场里", "院子里"], "圈里");
    private static readonly Phrase<(string Legs, string Noun, string Counter)> ZhLegs = Phrase.Of([("只脚", "脚", "只"), ("条腿", "腿", "条")]);
    private static readonly Phrase<string> ZhAskOne = Phrase.Of(["问{where}有多少只{N}？", "{N}有多少只？", "求{N}的只数。"], "{N}有几只？");
    private static readonly Phrase<string> ZhAskBoth = Phrase.Of(["请问{A}和{B}各有多少只？", "{A}和{B}各有多少只？", "{A}、{B}各有几只？"], "求{A}和{B}各多少只。");

    private sealed record EnSlots(string X, string Y, long H, long L, string Place, string Legs, string Ask);

    private static readonly Phrase<Func<EnSlots, string>> EnTemplates = Phrase.Of<Func<EnSlots, string>>(
        [
            s => $"A cage holds some {s.X} and some {s.Y}. Together they have {S(s.H)} heads and {S(s.L)} {s.Legs}. {s.Ask}",
            s => $"There are {s.X} and {s.Y} in a {s.Place}. Counting them gives {S(s.H)} heads and {S(s.L)} {s.Legs}. {s.Ask}",
            s => $"Some {s.X} and {s.Y} have {S(s.L)} {s.Legs} and {S(s.H)} heads altogether. {s.Ask}",
            s => $"A farmer keeps {S(s.H)} animals, all {s.X} or {s.Y}. Together they have {S(s.L)} {s.Legs}. {s.Ask}",
            s => $"{Capital(s.X)} and {s.Y} share a {s.Place}: there are {S(s.H)} heads and {S(s.L)} {s.Legs} in all. {s.Ask}",
        ],
        s => $"In a {s.Place} there are only {s.X} and {s.Y}, with {S(s.H)} heads and {S(s.L)} {s.Legs} between them. {s.Ask}",
        s => $"{Capital(s.X)} and {s.Y} were counted: {S(s.L)} {s.Legs}, {S(s.H)} heads. {s.Ask}");

    private static readonly Phrase<string> EnPlaces = Phrase.Of(["cage", "pen", "barn", "yard"], "field");
    private static readonly Phrase<string> EnLegs = Phrase.Of(["legs", "feet"]);
    private static readonly Phrase<string> EnAskOne = Phrase.Of(["How many {N} are there?", "Find the number of {N}.", "How many of them are {N}?"], "What is the number of {N}?");
    private static readonly Phrase<string> EnAskBoth = Phrase.Of(["How many {A} and how many {B} are there?", "How many of each are there?", "Find the number of {A} and the number of {B}."], "How many {A} and {B} are there?");

    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty, Phrasing phrasing)
    {
        int max = difficulty switch { 1 => 30, 2 => 99, _ => 300 };
        long two = rng.Int(1, max), four = rng.Int(1, max);
        long heads = two + four, legs = 2 * two + 4 * four;
        var ask = (Ask)rng.Int(0, 2);
        bool fourFirst = rng.Int(0, 3) == 0;
        return lang == TaskLanguage.Zh
            ? Zh(rng, phrasing, two, four, heads, legs, ask, fourFirst)
            : En(phrasing, two, four, heads, legs, ask, fourFirst);
    }

    private static TaskContent Zh(SplitMix64 rng, Phrasing phrasing, long two, long four, long heads, long legs, Ask ask, bool fourFirst)
    {
        var (twoAnimal, fourAnimal) = phrasing.Pick(ZhPairs);
        string a = rng.Pick(twoAnimal.Forms), b = rng.Pick(fourAnimal.Forms);
        var template = phrasing.Pick(ZhTemplates);
        // A place is drawn only for a template that names one, so a held-out item's reserved word is always in its prompt.
        string place = template(new ZhSlots("", "", "", 0, 0, Unused, "", "", "", "")).Contains(Unused) ? phrasing.Pick(ZhPlaces) : "";
        var (legWord, legNoun, legCounter) = phrasing.Pick(ZhLegs);
        string question = ask == Ask.Both
            ? phrasing.Pick(ZhAskBoth).Replace("{A}", a).Replace("{B}", b)
            : phrasing.Pick(ZhAskOne).Replace("{N}", ask == Ask.Four ? b : a);
        string x = fourFirst ? b : a, y = fourFirst ? a : b;
        string pair = fourFirst ? fourAnimal.Short + twoAnimal.Short : twoAnimal.Short + fourAnimal.Short;
        string prompt = template(new ZhSlots(x, y, pair, heads, legs, place, legWord, legNoun, legCounter, question));
        prompt = prompt.Replace("{where}", prompt.Contains('笼') ? "笼中" : "其中");

        string two1 = twoAnimal.Short, four1 = fourAnimal.Short;
        string target = ask switch { Ask.Four => four1, Ask.Two => two1, _ => two1 + "和" + four1 };
        var lines = new List<string>
        {
            $"头{S(heads)}，脚{S(legs)}，求{target}",
            $"全是{two1}：{Scratch.Multiply(heads, 2, TaskLanguage.Zh)}",
            $"多的脚：{Scratch.Subtract(legs, 2 * heads, TaskLanguage.Zh)}",
            $"{four1}：{Scratch.Divide(legs - 2 * heads, 2, TaskLanguage.Zh)}",
        };
        if (ask != Ask.Four) lines.Add($"{two1}：{Scratch.Subtract(heads, four, TaskLanguage.Zh)}");
        string answer = ask switch
        {
            Ask.Four => S(four),
            Ask.Two => S(two),
            _ => $"{two1}{S(two)}只，{four1}{S(four)}只",
        };
        return new TaskContent(prompt, string.Join("\n", lines), answer);
    }

    private static TaskContent En(Phrasing phrasing, long two, long four, long heads, long legs, Ask ask, bool fourFirst)
    {
        var (twoAnimal, fourAnimal) = phrasing.Pick(EnPairs);
        string a = twoAnimal.Plural, b = fourAnimal.Plural;
        var template = phrasing.Pick(EnTemplates);
        string place = template(new EnSlots("x", "", 0, 0, Unused, "", "")).Contains(Unused) ? phrasing.Pick(EnPlaces) : "";
        string legWord = phrasing.Pick(EnLegs);
        string question = ask == Ask.Both
            ? phrasing.Pick(EnAskBoth).Replace("{A}", a).Replace("{B}", b)
            : phrasing.Pick(EnAskOne).Replace("{N}", ask == Ask.Four ? b : a);
        string prompt = template(new EnSlots(fourFirst ? b : a, fourFirst ? a : b, heads, legs, place, legWord, question));

        string target = ask switch { Ask.Four => b, Ask.Two => a, _ => $"{a} and {b}" };
        var lines = new List<string>
        {
            $"heads {S(heads)}, legs {S(legs)}, find {target}",
            $"all {a}: {Scratch.Multiply(heads, 2, TaskLanguage.En)}",
            $"extra legs: {Scratch.Subtract(legs, 2 * heads, TaskLanguage.En)}",
            $"{b}: {Scratch.Divide(legs - 2 * heads, 2, TaskLanguage.En)}",
        };
        if (ask != Ask.Four) lines.Add($"{a}: {Scratch.Subtract(heads, four, TaskLanguage.En)}");
        string answer = ask switch
        {
            Ask.Four => S(four),
            Ask.Two => S(two),
            _ => $"{Count(two, twoAnimal)}, {Count(four, fourAnimal)}",
        };
        return new TaskContent(prompt, string.Join("\n", lines), answer);
    }

    private static string Count(long n, EnAnimal animal) => $"{S(n)} {(n == 1 ? animal.Singular : animal.Plural)}";

    private static string Capital(string word) => char.ToUpperInvariant(word[0]) + word[1..];
}
