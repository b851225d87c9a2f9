using Retort.Distillation.Evaluation;

namespace Retort.Distillation.Tasks;

/// <summary>What one task family produces for an item: question, worked solution, answer, and hidden tests for code.</summary>
internal readonly record struct TaskContent(string Prompt, string Reasoning, string Answer, CodeTests? Tests = null);
