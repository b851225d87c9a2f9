using System.Text.RegularExpressions;
using Retort.Distillation.Evaluation;
using Retort.Distillation.Tasks;
using Retort.Distillation.Tests.Support;

namespace Retort.Distillation.Tests.Tasks;

/// <summary>
/// Every generated answer is re-derived here from the prompt text alone, with the tests' own parsing and
/// exact arithmetic, so a wrong solution in the generator cannot pass by agreeing with itself; every
/// written-out operation of every solution is re-done digit by digit (<see cref="ScratchChecker"/>).
/// </summary>
public sealed class TaskGeneratorTests
{
    private static readonly TaskLanguage[] Both = [TaskLanguage.Zh, TaskLanguage.En];

    private static IReadOnlyList<ReasoningTask> Make(TaskKind kind, int count = 300, ulong seed = 7) =>
        TaskGenerator.Generate(count, seed, [kind], Both);

    private static readonly string[] TwoLeggedZh = ["鸡", "鸭", "鹅"], FourLeggedZh = ["兔", "羊", "猪", "狗"];
    private static readonly string[] TwoLeggedEn = ["chicken", "duck", "turkey"], FourLeggedEn = ["rabbit", "goat", "pig", "dog"];

    [Fact]
    public void ChickensAndRabbitsAnswerWhatIsAskedAndTheWorkUsesThePromptsNumbers()
    {
        var asked = new HashSet<string>();
        foreach (var t in Make(TaskKind.ChickensRabbits, 600))
        {
            bool zh = t.Language == TaskLanguage.Zh;
            var numbers = Regex.Matches(t.Prompt, @"\d+").Select(m => long.Parse(m.Value)).ToList();
            Assert.Equal(2, numbers.Count);
            // Legs always outnumber heads (every animal has at least two), whichever the prompt names first.
            long heads = numbers.Min(), legs = numbers.Max();
            Assert.True((legs - 2 * heads) % 2 == 0, t.Id);
            long four = (legs - 2 * heads) / 2, two = heads - four;
            Assert.True(four >= 1 && two >= 1, $"{t.Id}: {t.Prompt}");

            string question = t.Prompt[(Regex.Matches(t.Prompt, @"\d+")[^1].Index)..];
            var twoNames = zh ? TwoLeggedZh : TwoLeggedEn;
            var fourNames = zh ? FourLeggedZh : FourLeggedEn;
            bool asksTwo = twoNames.Any(question.Contains), asksFour = fourNames.Any(question.Contains);
            bool both = (asksTwo && asksFour) || question.Contains('各') || question.Contains("each", StringComparison.Ordinal);
            if (both)
            {
                var m = zh
                    ? Regex.Match(t.Answer, @"^(\p{IsCJKUnifiedIdeographs}+)(\d+)只，(\p{IsCJKUnifiedIdeographs}+)(\d+)只$")
                    : Regex.Match(t.Answer, @"^(\d+) ([a-z]+), (\d+) ([a-z]+)$");
                Assert.True(m.Success, $"{t.Id}: answer '{t.Answer}'");
                var (n1, c1, n2, c2) = zh
                    ? (m.Groups[1].Value, long.Parse(m.Groups[2].Value), m.Groups[3].Value, long.Parse(m.Groups[4].Value))
                    : (m.Groups[2].Value, long.Parse(m.Groups[1].Value), m.Groups[4].Value, long.Parse(m.Groups[3].Value));
                Assert.True(twoNames.Any(n1.StartsWith) && fourNames.Any(n2.StartsWith), $"{t.Id}: '{t.Answer}' names the animals wrongly");
                Assert.Equal((two, four), (c1, c2));
                asked.Add("both");
            }
            else
            {
                Assert.True(asksTwo != asksFour, $"{t.Id}: cannot tell what '{question}' asks");
                Assert.Equal(asksFour ? four : two, long.Parse(t.Answer));
                asked.Add(asksFour ? "four" : "two");
            }

            var ops = ScratchChecker.Check(t.Reasoning);
            var expected = new List<(long, char, long, long)> { (heads, '×', 2, 2 * heads), (legs, '-', 2 * heads, legs - 2 * heads), (legs - 2 * heads, '÷', 2, four) };
            if (both || asksTwo) expected.Add((heads, '-', four, two));
            Assert.Equal(expected, ops);
        }
        Assert.Equal(["both", "four", "two"], asked.Order());
    }

    [Fact]
    public void ArithmeticChainsEvaluateToTheAnswerOneOperationALine()
    {
        foreach (var t in Make(TaskKind.ArithmeticChain))
        {
            string expression = Regex.Matches(t.Prompt, @"[\d(][\d()+\-×÷ ]*[\d)]").MaxBy(m => m.Length)!.Value;
            Assert.Equal(ExpressionEvaluator.Evaluate(expression).ToString(), t.Answer);
            // The lines take the expression's operations in order, each on the result of the one before.
            var operators = Regex.Matches(expression, @"[+\-×÷] (\d+)").Select(m => (m.Value[0], long.Parse(m.Groups[1].Value))).ToList();
            var ops = ScratchChecker.Check(t.Reasoning);
            Assert.Equal(operators, ops.Select(o => (o.Op, o.B)));
            Assert.Equal(long.Parse(Regex.Match(expression, @"\d+").Value), ops[0].A);
            for (int i = 1; i < ops.Count; i++) Assert.Equal(ops[i - 1].Result, ops[i].A);
            Assert.Equal(t.Answer, ops[^1].Result.ToString());
            Assert.Equal(ops.Count, t.Reasoning.Split('\n').Length);
        }
    }

    [Fact]
    public void LinearEquationAnswersSatisfyTheEquations()
    {
        foreach (var t in Make(TaskKind.LinearEquation))
        {
            const string side = @"(?:\d*[xy]|\d+)(?: [+-] (?:\d*[xy]|\d+))*";
            var equations = Regex.Matches(t.Prompt, $"{side} = {side}").Select(m => Linear(m.Value)).ToList();
            Frac x = long.Parse(t.Answer);
            if (equations.Count == 2)
            {
                var ((a1, b1, c1), (a2, b2, c2)) = (equations[0], equations[1]);
                long det = a1 * b2 - a2 * b1;
                Assert.NotEqual(0L, det);
                // Cramer's rule on a·x + b·y = -c.
                Assert.Equal(new Frac(-c1 * b2 + c2 * b1, det), x);
            }
            else
            {
                var (a, b, c) = Assert.Single(equations);
                Assert.Equal(0L, b);
                Assert.NotEqual(0L, a);
                Assert.Equal((Frac)0, (Frac)a * x + c);
            }
            Assert.NotEmpty(ScratchChecker.Check(t.Reasoning));
        }
    }

    [Fact]
    public void DiceAnswersEqualTheGameSolvedFromThePrompt()
    {
        var seen = new HashSet<(int Players, int Sides)>();
        foreach (var t in Make(TaskKind.DiceProbability, 600))
        {
            var game = DiceGame.Parse(t.Prompt, t.Language == TaskLanguage.Zh);
            seen.Add((game.Players.Count, game.Sides));
            Assert.Equal(game.ChanceOfAsked().ToString(), t.Answer);
            ScratchChecker.Check(t.Reasoning);
        }
        Assert.Contains(seen, s => s.Players == 3);
        Assert.Contains(seen, s => s.Sides != 6);
    }

    [Fact]
    public void SyllogismTrapAnswersAreWhatThePremisesForce()
    {
        var verdicts = new HashSet<string>();
        foreach (var t in Make(TaskKind.SyllogismTrap, 900))
        {
            string expected = PremiseWorlds.Solve(t.Prompt, t.Language == TaskLanguage.Zh);
            Assert.True(expected == t.Answer, $"{t.Id}: '{t.Prompt}' → {t.Answer}, the premises say {expected}");
            verdicts.Add(t.Answer);
        }
        Assert.Equal(["no", "not necessarily", "yes", "不一定", "不会", "不是", "会", "是"], verdicts.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ExactlyTheAnswerOfEachSyllogismFollowsFromItsPremises()
    {
        foreach (var t in Make(TaskKind.Syllogism, 120))
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
    public void PythonReferenceAnswersPassTheirTestsAndABrokenBodyFailsThem()
    {
        PythonAvailable.Require();
        var runner = new PythonTestRunner();
        var tasks = Make(TaskKind.PythonFunction, 160);
        var functions = new HashSet<string>();
        foreach (var t in tasks)
        {
            var tests = Assert.IsType<CodeTests>(t.Tests);
            Assert.True(tests.Cases.Count >= 3, t.Id);
            var block = Regex.Match(t.Answer, "^```python\n(.*)\n```$", RegexOptions.Singleline);
            Assert.True(block.Success, t.Answer);
            string code = block.Groups[1].Value;
            Assert.StartsWith($"def {tests.EntryPoint}(", code);
            functions.Add(Regex.Replace(tests.EntryPoint, @"\d+", "k"));
            var result = runner.Run(code, tests);
            Assert.True(result.Outcome == CodeTestOutcome.Passed, $"{t.Id}: {result.Detail}\n{code}");
            // The same signature returning nothing passes no function's tests.
            string broken = code.Split('\n')[0] + "\n    return None";
            Assert.Equal(CodeTestOutcome.Failed, runner.Run(broken, tests).Outcome);
        }
        Assert.True(functions.Count >= 15, $"only {functions.Count} different functions: {string.Join(", ", functions)}");
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
        foreach (var split in new[] { PhrasingSplit.Training, PhrasingSplit.Heldout })
            Assert.Equal(TaskGenerator.Generate(30, 5, kinds, Both, DifficultyRange.All, split), TaskGenerator.Generate(30, 5, kinds, Both, DifficultyRange.All, split));
    }

    [Fact]
    public void EveryKindComesInBothLanguages()
    {
        var tasks = TaskGenerator.Generate(70, 1, TaskNames.AllKinds, Both);
        foreach (var kind in TaskNames.AllKinds)
        {
            var zh = tasks.Where(t => t.Kind == kind && t.Language == TaskLanguage.Zh).ToList();
            var en = tasks.Where(t => t.Kind == kind && t.Language == TaskLanguage.En).ToList();
            Assert.NotEmpty(zh);
            Assert.NotEmpty(en);
            Assert.All(zh, t => Assert.Matches(@"\p{IsCJKUnifiedIdeographs}", t.Prompt + t.Reasoning));
            Assert.All(en, t => Assert.DoesNotMatch(@"\p{IsCJKUnifiedIdeographs}", t.Prompt + t.Reasoning + t.Answer));
            Assert.All(tasks, t => Assert.InRange(t.Difficulty, 1, 3));
            Assert.All(tasks, t => Assert.True(t.Reasoning.Split('\n').Length >= 2, t.Id));
            Assert.All(tasks, t => Assert.Equal(t.Kind == TaskKind.PythonFunction, t.Tests != null));
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
        int covered = 0;
        foreach (Match m in Regex.Matches(compact, @"([+-]?)(\d*)([xy]?)"))
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
