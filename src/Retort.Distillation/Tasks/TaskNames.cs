using Retort.Engine;

namespace Retort.Distillation.Tasks;

/// <summary>The names kinds and languages have in files and on the command line.</summary>
public static class TaskNames
{
    private static readonly (TaskKind Kind, string Name)[] Kinds =
    [
        (TaskKind.ChickensRabbits, "chickens-rabbits"),
        (TaskKind.LinearEquation, "linear-equation"),
        (TaskKind.ArithmeticChain, "arithmetic-chain"),
        (TaskKind.DiceProbability, "dice-probability"),
        (TaskKind.Syllogism, "syllogism"),
        (TaskKind.SyllogismTrap, "syllogism-trap"),
        (TaskKind.PythonFunction, "python-function"),
    ];

    private static readonly (PhrasingSplit Split, string Name)[] Splits =
    [
        (PhrasingSplit.All, "all"),
        (PhrasingSplit.Training, "train"),
        (PhrasingSplit.Heldout, "heldout"),
    ];

    public static IReadOnlyList<TaskKind> AllKinds { get; } = Kinds.Select(k => k.Kind).ToArray();

    public static string Name(TaskKind kind) => Kinds.First(k => k.Kind == kind).Name;

    public static string Name(TaskLanguage language) => language == TaskLanguage.Zh ? "zh" : "en";

    public static TaskKind ParseKind(string name)
    {
        foreach (var (kind, n) in Kinds)
            if (string.Equals(n, name.Trim(), StringComparison.OrdinalIgnoreCase)) return kind;
        throw new RetortException($"unknown task kind '{name}' (expected one of {string.Join(", ", Kinds.Select(k => k.Name))})");
    }

    public static string Name(PhrasingSplit split) => Splits.First(s => s.Split == split).Name;

    public static PhrasingSplit ParsePhrasing(string name)
    {
        foreach (var (split, n) in Splits)
            if (string.Equals(n, name.Trim(), StringComparison.OrdinalIgnoreCase)) return split;
        throw new RetortException($"--phrasing must be all, train or heldout, found '{name}'");
    }

    public static TaskLanguage ParseLanguage(string name) => name.Trim().ToLowerInvariant() switch
    {
        "en" => TaskLanguage.En,
        "zh" => TaskLanguage.Zh,
        _ => throw new RetortException($"unknown language '{name}' (expected en or zh)"),
    };
}
