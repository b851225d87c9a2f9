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
        Generate(count, seed, kinds, languages, DifficultyRange.All, PhrasingSplit.All);

    public static IReadOnlyList<ReasoningTask> Generate(
        int count, ulong seed, IReadOnlyList<TaskKind> kinds, IReadOnlyList<TaskLanguage> languages, DifficultyRange difficulties) =>
        Generate(count, seed, kinds, languages, difficulties, PhrasingSplit.All);

    public static IReadOnlyList<ReasoningTask> Generate(
        int count, ulong seed, IReadOnlyList<TaskKind> kinds, IReadOnlyList<TaskLanguage> languages, DifficultyRange difficulties, PhrasingSplit phrasing)
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
            // One draw whatever the range, so the rest of the item's stream is unchanged: an item of difficulty
            // 1 in a run over 1-3 is the same item in a run over 1 only.
            int difficulty = rng.Int(difficulties.Min, difficulties.Max);
            var content = Phrasing.Make(rng, phrasing, p => kind switch
            {
                TaskKind.ChickensRabbits => ChickensRabbitsTask.Make(rng, language, difficulty, p),
                TaskKind.LinearEquation => LinearEquationTask.Make(rng, language, difficulty, p),
                TaskKind.ArithmeticChain => ArithmeticChainTask.Make(rng, language, difficulty, p),
                TaskKind.DiceProbability => DiceProbabilityTask.Make(rng, language, difficulty, p),
                TaskKind.Syllogism => SyllogismTask.Make(rng, language, difficulty, p),
                TaskKind.SyllogismTrap => SyllogismTrapTask.Make(rng, language, difficulty, p),
                _ => PythonFunctionTask.Make(rng, language, difficulty, p),
            });
            string id = $"{TaskNames.Name(kind)}-{TaskNames.Name(language)}-{seed.ToString(CultureInfo.InvariantCulture)}-{i.ToString("D6", CultureInfo.InvariantCulture)}";
            tasks.Add(new ReasoningTask(id, language, kind, content.Prompt, content.Reasoning, content.Answer, difficulty, content.Tests));
        }
        return tasks;
    }
}
