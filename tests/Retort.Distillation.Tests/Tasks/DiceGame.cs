using System.Text.RegularExpressions;
using Retort.Distillation.Tests.Support;

namespace Retort.Distillation.Tests.Tasks;

/// <summary>A dice game read back from a prompt's text, and the asked player's chance solved from the turn recursion.</summary>
internal sealed record DiceGame(IReadOnlyList<string> Players, string Starter, string Asked, int Sides, int WinningFaces)
{
    public static DiceGame Parse(string prompt, bool zh)
    {
        var players = zh
            ? Split(Regex.Match(prompt, "^(.+?)(?:两人|三人|玩|按顺序|轮流)").Groups[1].Value, zh)
            : Split(Regex.Match(prompt, "^(?:In a game, )?(.+?) (?:take turns|roll )").Groups[1].Value, zh);
        string starter = First(prompt, zh
            ? [@"(?:[，。]|从|由|（)(?!谁)(?<v>[^，。（）从由]+?)(?:先掷|开始|第一个掷)"]
            : [@"and (?<v>\w+) goes first", @"starting with (?<v>\w+)", @"; (?<v>\w+) rolls first", @"\((?<v>\w+) first\)"]);
        string asked = First(prompt, zh
            ? [@"(?:求|问|。)(?<v>[^，。求问]+?)(?:获胜|赢)的概率"]
            : [@"probability that (?<v>\w+) wins", @"is (?<v>\w+) to win"]);
        var sides = Regex.Match(prompt, zh ? @"(\d+)面" : @"(\d+)-sided|with (\d+) faces");
        int k = sides.Success ? int.Parse(sides.Groups[1].Success ? sides.Groups[1].Value : sides.Groups[2].Value) : 6;
        string target = First(prompt, zh
            ? [@"掷出(?<v>.+?)(?:谁赢|的人|谁就赢|就获胜)"]
            : [@"Whoever rolls (?<v>.+?) first wins", @"The first to roll (?<v>.+?) wins", @"the first player to get (?<v>.+?) wins", @"; rolling (?<v>.+?) wins the game"]);
        int winning;
        if (target is "偶数" or "奇数" or "an even number" or "an odd number") winning = k / 2;
        else if (Regex.Match(target, @"(?:大于|greater than )(\d+)") is { Success: true } above) winning = k - int.Parse(above.Groups[1].Value);
        else
        {
            var faces = Regex.Matches(target, @"\d+").Select(m => int.Parse(m.Value)).ToList();
            Assert.True(faces.Count is 1 or 2 && faces.All(f => f >= 1 && f <= k) && faces.Distinct().Count() == faces.Count, $"winning faces '{target}' in '{prompt}'");
            winning = faces.Count;
        }
        Assert.Contains(starter, players);
        Assert.Contains(asked, players);
        Assert.InRange(players.Count, 2, 3);
        return new DiceGame(players, starter, asked, k, winning);
    }

    /// <summary>
    /// V(j), the chance the asked player wins when the j-th player of the turn order is about to roll, is
    /// p·[j is asked] + q·V(j + 1); going once round the table, V(0) = Σ q^j·p·[j is asked] + qⁿ·V(0).
    /// </summary>
    public Frac ChanceOfAsked()
    {
        int n = Players.Count, start = Players.ToList().IndexOf(Starter);
        Frac p = new(WinningFaces, Sides), q = (Frac)1 - p, once = 0, qj = 1;
        for (int j = 0; j < n; j++)
        {
            if (Players[(start + j) % n] == Asked) once += qj * p;
            qj *= q;
        }
        return once / ((Frac)1 - qj);
    }

    private static List<string> Split(string text, bool zh)
    {
        Assert.False(string.IsNullOrEmpty(text), "no players found");
        if (zh && !text.Contains('、') && !text.Contains('和')) return text.Select(c => c.ToString()).ToList();
        return Regex.Split(text, zh ? "[、和]" : ", | and ").ToList();
    }

    private static string First(string prompt, string[] patterns)
    {
        foreach (string pattern in patterns)
            if (Regex.Match(prompt, pattern) is { Success: true } m) return m.Groups["v"].Value;
        throw new Xunit.Sdk.XunitException($"none of {string.Join(" | ", patterns)} in '{prompt}'");
    }
}
