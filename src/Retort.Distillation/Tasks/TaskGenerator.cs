using System.Globalization;
using Retort.Engine;

namespace Retort.Distillation.Tasks;

/// <summary>
/// Makes synthetic reasoning tasks from a seed. Item i depends only on the seed and i, so a run with a
/// larger count extends a smaller one; kinds and languages take turns, so every combination is covered.
/// </summary>
public static class TaskGenerator
{
    public static IReadOnlyList<ReasoningTask> Generate(int count, ulong seed, IReadOnlyList<TaskKind> kinds, IReadOnlyList<TaskLanguage> languages) =>
        Generate(count, seed, kinds, languages, DifficultyRange.All);

    public static IReadOnlyList<ReasoningTask> Generate(
        int count, ulong seed, IReadOnlyList<TaskKind> kinds, IReadOnlyList<TaskLanguage> languages, DifficultyRange difficulties)
    {
        if (count < 0) throw new RetortException($"--count must be ≥ 0, found {count}");
        if (kinds.Count == 0) throw new RetortException("no task kinds selected");
        if (languages.Count == 0) throw new RetortException("no languages selected");
        var tasks = new List<ReasoningTask>(count);
        for (int i = 0; i < count; i++)
        {
            var kind = kinds[i % kinds.Count];
            var language = languages[i / kinds.Count % languages.Count];
            var rng = new SplitMix64(SplitMix64.Mix(seed, (ulong)i));
            // One draw whatever the range, so the rest of the item's stream is unchanged: the full range 1-3
            // gives exactly the tasks of the runs made before the range could be chosen.
            int difficulty = rng.Int(difficulties.Min, difficulties.Max);
            var content = kind switch
            {
                TaskKind.ChickensRabbits => ChickensRabbitsTask.Make(rng, language, difficulty),
                TaskKind.LinearEquation => LinearEquationTask.Make(rng, language, difficulty),
                TaskKind.ArithmeticChain => ArithmeticChainTask.Make(rng, language, difficulty),
                TaskKind.DiceProbability => DiceProbabilityTask.Make(rng, language, difficulty),
                _ => SyllogismTask.Make(rng, language, difficulty),
            };
            string id = $"{TaskNames.Name(kind)}-{TaskNames.Name(language)}-{seed.ToString(CultureInfo.InvariantCulture)}-{i.ToString("D6", CultureInfo.InvariantCulture)}";
            tasks.Add(new ReasoningTask(id, language, kind, content.Prompt, content.Reasoning, content.Answer, difficulty));
        }
        return tasks;
    }
}
