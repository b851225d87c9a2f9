using System.Text.RegularExpressions;
using Retort.Distillation.Tasks;
using Retort.Distillation.Tests.Support;

namespace Retort.Distillation.Tests.Tasks;

/// <summary>
/// Every generated answer is re-derived here from the prompt text alone, with the tests' own parsing and
/// exact arithmetic, so a wrong solution in the generator cannot pass by agreeing with itself.
/// </summary>
public sealed class TaskGeneratorTests
{
    private static readonly TaskLanguage[] Both = [TaskLanguage.Zh, TaskLanguage.En];

    private static IReadOnlyList<ReasoningTask> Make(TaskKind kind, int count = 120, ulong seed = 7) =>
        TaskGenerator.Generate(count, seed, [kind], Both);

    [Fact]
    public void ChickensAndRabbitsSatisfyTheHeadAndLegEquations()
    {
        foreach (var t in Make(TaskKind.ChickensRabbits))
        {
            var m = t.Language == TaskLanguage.En
                ? Regex.Match(t.Prompt, @"(\d+) heads and (\d+) legs\. How many (rabbits|chickens)")
                : Regex.Match(t.Prompt, @"有(\d+)个头，从下面数有(\d+)只脚。问笼中有多少只(兔子|鸡)");
            Assert.True(m.Success, t.Prompt);
            long heads = long.Parse(m.Groups[1].Value), legs = long.Parse(m.Groups[2].Value);
            bool rabbitsAsked = m.Groups[3].Value is "rabbits" or "兔子";
            long answer = long.Parse(t.Answer);
            long rabbits = rabbitsAsked ? answer : heads - answer;
            long chickens = heads - rabbits;
            Assert.True(chickens >= 0 && rabbits >= 0, t.Id);
            Assert.Equal(legs, 2 * chickens + 4 * rabbits);
            Assert.Contains(t.Answer, t.Reasoning);
        }
    }

    [Fact]
    public void LinearEquationAnswersSatisfyTheEquationsBySubstitution()
    {
        foreach (var t in Make(TaskKind.LinearEquation))
        {
            Frac x = long.Parse(t.Answer);
            var system = t.Language == TaskLanguage.En
                ? Regex.Match(t.Prompt, @"^Solve the system of equations (.+) and (.+)\. What is x\?$")
                : Regex.Match(t.Prompt, @"^解方程组：(.+)，(.+)。求 x 的值。$");
            if (system.Success)
            {
                var (ax1, ay1, c1) = Linear(system.Groups[1].Value);
                var (ax2, ay2, c2) = Linear(system.Groups[2].Value);
                Assert.NotEqual(0L, ax1 * ay2 - ax2 * ay1); // a unique solution
                Assert.NotEqual(0L, ay1);
                Frac y = ((Frac)0 - (Frac)c1 - (Frac)ax1 * x) / ay1;
                Assert.Equal((Frac)0, (Frac)ax2 * x + (Frac)ay2 * y + c2);
                continue;
            }
            var single = t.Language == TaskLanguage.En
                ? Regex.Match(t.Prompt, @"^Solve for x: (.+)$")
                : Regex.Match(t.Prompt, @"^解方程：(.+)，求 x 的值。$");
            Assert.True(single.Success, t.Prompt);
            var (a, b, c) = Linear(single.Groups[1].Value);
            Assert.Equal(0L, b);
            Assert.NotEqual(0L, a);
            Assert.Equal((Frac)0, (Frac)a * x + c);
        }
    }

    [Fact]
    public void ArithmeticChainsEvaluateToTheAnswer()
    {
        foreach (var t in Make(TaskKind.ArithmeticChain))
        {
            string expression = t.Language == TaskLanguage.En
                ? t.Prompt["Compute step by step: ".Length..]
                : t.Prompt["请逐步计算：".Length..];
            Assert.Equal(ExpressionEvaluator.Evaluate(expression).ToString(), t.Answer);
        }
    }

    [Fact]
    public void DiceProbabilitiesEqualTheGameSolvedExactly()
    {
        foreach (var t in Make(TaskKind.DiceProbability))
        {
            bool en = t.Language == TaskLanguage.En;
            var a = Regex.Match(t.Prompt, en ? "A wins as soon as A rolls ([^;]+);" : "甲掷出(.+?)即获胜");
            var b = Regex.Match(t.Prompt, en ? @"B wins as soon as B rolls ([^.]+)\." : "乙掷出(.+?)即获胜");
            var n = Regex.Match(t.Prompt, en ? @"each player has rolled (\d+) times" : @"各掷(\d+)次");
            Assert.True(a.Success && b.Success, t.Prompt);
            int facesA = Regex.Matches(a.Groups[1].Value, "[1-6]").Count, facesB = Regex.Matches(b.Groups[1].Value, "[1-6]").Count;
            Frac p = new(facesA, 6), q = new(facesB, 6);
            Frac expected;
            if (n.Success)
            {
                // Walk the turns from the last one back: chance that A eventually wins from turn k.
                int turns = 2 * int.Parse(n.Groups[1].Value);
                Frac fromHere = 0;
                for (int turn = turns - 1; turn >= 0; turn--)
                {
                    bool aRolls = turn % 2 == 0;
                    int winning = aRolls ? facesA : facesB;
                    Frac sum = 0;
                    for (int face = 1; face <= 6; face++)
                        sum += face <= winning ? (aRolls ? 1 : 0) : fromHere;
                    fromHere = sum / 6;
                }
                expected = fromHere;
            }
            else
            {
                // x = P(A wins | A to roll), y = P(A wins | B to roll): x = p + (1-p) y, y = (1-q) x.
                expected = p / ((Frac)1 - ((Frac)1 - p) * ((Frac)1 - q));
            }
            Assert.Equal(expected.ToString(), t.Answer);
        }
    }

    [Fact]
    public void ExactlyTheAnswerOfEachSyllogismFollowsFromItsPremises()
    {
        foreach (var t in Make(TaskKind.Syllogism))
        {
            bool en = t.Language == TaskLanguage.En;
            var lines = t.Prompt.Split('\n');
            var premises = lines.Select(l => Regex.Match(l, en ? @"^Premise \d: (.+)$" : "^前提[一二]：(.+)$"))
                .Where(m => m.Success).Select(m => VennStatement.Parse(m.Groups[1].Value, en)).ToList();
            var options = lines.Select(l => Regex.Match(l, @"^([A-E])\. (.+)$")).Where(m => m.Success)
                .ToDictionary(m => m.Groups[1].Value, m => VennStatement.Parse(m.Groups[2].Value, en));
            Assert.Equal(2, premises.Count);
            Assert.Equal(4, options.Count);
            var terms = premises.SelectMany(p => new[] { p.X, p.Y }).Distinct().ToList();
            Assert.Equal(3, terms.Count);
            foreach (var (letter, statement) in options)
            {
                if (letter == t.Answer)
                    Assert.True(VennStatement.Follows(terms, premises, statement, requireNonEmpty: false), $"{t.Id}: the answer does not follow");
                else
                    Assert.False(VennStatement.Follows(terms, premises, statement, requireNonEmpty: true), $"{t.Id}: option {letter} also follows");
            }
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameTasksAndALargerCountExtendsASmallerOne()
    {
        var kinds = TaskNames.AllKinds;
        var first = TaskGenerator.Generate(40, 123, kinds, Both);
        var again = TaskGenerator.Generate(40, 123, kinds, Both);
        var longer = TaskGenerator.Generate(80, 123, kinds, Both);
        var other = TaskGenerator.Generate(40, 124, kinds, Both);
        Assert.Equal(first, again);
        Assert.Equal(first, longer.Take(40));
        Assert.NotEqual(first.Select(t => t.Prompt), other.Select(t => t.Prompt));
        Assert.Equal(40, first.Select(t => t.Id).Distinct().Count());
    }

    [Fact]
    public void EveryKindComesInBothLanguages()
    {
        var tasks = TaskGenerator.Generate(50, 1, TaskNames.AllKinds, Both);
        foreach (var kind in TaskNames.AllKinds)
        {
            var zh = tasks.Where(t => t.Kind == kind && t.Language == TaskLanguage.Zh).ToList();
            var en = tasks.Where(t => t.Kind == kind && t.Language == TaskLanguage.En).ToList();
            Assert.NotEmpty(zh);
            Assert.NotEmpty(en);
            Assert.All(zh, t => Assert.Matches(@"\p{IsCJKUnifiedIdeographs}", t.Prompt + t.Reasoning));
            Assert.All(en, t => Assert.DoesNotMatch(@"\p{IsCJKUnifiedIdeographs}", t.Prompt + t.Reasoning));
            Assert.All(tasks, t => Assert.InRange(t.Difficulty, 1, 3));
            Assert.All(tasks, t => Assert.True(t.Reasoning.Split('\n').Length >= 3, t.Id));
        }
    }

    /// <summary>"3x - y + 5" (one side) or "a = b" (both): coefficients of x and y and the constant, of left minus right.</summary>
    private static (long X, long Y, long C) Linear(string equation)
    {
        var sides = equation.Split('=');
        Assert.Equal(2, sides.Length);
        var l = Side(sides[0]);
        var r = Side(sides[1]);
        return (l.X - r.X, l.Y - r.Y, l.C - r.C);
    }

    private static (long X, long Y, long C) Side(string text)
    {
        long x = 0, y = 0, c = 0;
        string compact = text.Replace(" ", "");
        var terms = Regex.Matches(compact, @"([+-]?)(\d*)([xy]?)");
        int covered = 0;
        foreach (Match m in terms)
        {
            if (m.Length == 0) continue;
            covered += m.Length;
            long sign = m.Groups[1].Value == "-" ? -1 : 1;
            long magnitude = m.Groups[2].Value.Length > 0 ? long.Parse(m.Groups[2].Value) : 1;
            switch (m.Groups[3].Value)
            {
                case "x": x += sign * magnitude; break;
                case "y": y += sign * magnitude; break;
                default:
                    Assert.NotEmpty(m.Groups[2].Value);
                    c += sign * magnitude;
                    break;
            }
        }
        Assert.Equal(compact.Length, covered);
        return (x, y, c);
    }
}
