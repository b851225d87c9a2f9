using System.CommandLine;
using Retort.Distillation.Tasks;

namespace Retort.Cli.Commands;

/// <summary><c>retort distill tasks</c>: synthetic reasoning problems with reference answers (and worked solutions) from a seed.</summary>
internal static class DistillTasksCommand
{
    public static Command Create(CliIo io)
    {
        var count = new Option<int>("--count") { Description = "how many tasks", DefaultValueFactory = _ => 100 };
        var seed = new Option<ulong>("--seed") { Description = "the same seed gives the same tasks", DefaultValueFactory = _ => 0 };
        var kinds = new Option<string>("--kinds")
        {
            Description = "comma-separated: " + string.Join(",", TaskNames.AllKinds.Select(TaskNames.Name)),
            DefaultValueFactory = _ => string.Join(",", TaskNames.AllKinds.Select(TaskNames.Name)),
        };
        var lang = new Option<string>("--lang") { Description = "comma-separated languages: zh, en", DefaultValueFactory = _ => "zh,en" };
        var output = new Option<string>("--out") { Description = "the JSONL file to write (atomically)", Required = true };
        var solutions = new Option<bool>("--with-solutions") { Description = "add the step-by-step reasoning: {\"prompt\",\"reasoning\",\"answer\"} SFT data" };
        var difficulty = new Option<string>("--difficulty")
        {
            Description = "a difficulty (1 easiest, 3 hardest) or a range such as 1-2; an item of a difficulty is the same item in every range that holds it",
            DefaultValueFactory = _ => DifficultyRange.All.ToString(),
        };
        var phrasing = new Option<string>("--phrasing")
        {
            Description = "all, train (never the wordings reserved for evaluation) or heldout (always at least one reserved wording)",
            DefaultValueFactory = _ => TaskNames.Name(PhrasingSplit.All),
        };
        var command = new Command("tasks", "Generate synthetic reasoning tasks with verifiable answers (鸡兔同笼, equations, arithmetic, dice, syllogisms and traps, Python functions)")
        {
            count, seed, kinds, lang, difficulty, phrasing, output, solutions,
        };
        command.SetAction(result =>
        {
            var kindList = Split(result.GetValue(kinds)!).Select(TaskNames.ParseKind).Distinct().ToList();
            var langList = Split(result.GetValue(lang)!).Select(TaskNames.ParseLanguage).Distinct().ToList();
            var range = DifficultyRange.Parse(result.GetValue(difficulty)!);
            var split = TaskNames.ParsePhrasing(result.GetValue(phrasing)!);
            var tasks = TaskGenerator.Generate(result.GetValue(count), result.GetValue(seed), kindList, langList, range, split);
            string path = result.GetValue(output)!;
            TaskFile.Write(path, tasks, result.GetValue(solutions));
            io.Out.WriteLine($"wrote {tasks.Count} tasks ({string.Join(", ", kindList.Select(TaskNames.Name))}; {string.Join(", ", langList.Select(TaskNames.Name))}; difficulty {range}; phrasing {TaskNames.Name(split)}) to {path}");
            return 0;
        });
        return command;
    }

    private static IEnumerable<string> Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
