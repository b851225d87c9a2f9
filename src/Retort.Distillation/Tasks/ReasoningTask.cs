using Retort.Distillation.Evaluation;

namespace Retort.Distillation.Tasks;

/// <summary>
/// One synthetic problem with its worked solution: <see cref="Reasoning"/> is the step-by-step chain of
/// thought and <see cref="Answer"/> the canonical final answer (what would go inside \boxed{}; for code, a
/// ```python block). <see cref="Tests"/>: the hidden tests a code answer is checked by.
/// </summary>
public sealed record ReasoningTask(
    string Id,
    TaskLanguage Language,
    TaskKind Kind,
    string Prompt,
    string Reasoning,
    string Answer,
    int Difficulty,
    CodeTests? Tests = null);
