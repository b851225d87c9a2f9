namespace Retort.Distillation.Tasks;

/// <summary>What one task family produces for an item: question, worked solution, answer.</summary>
internal readonly record struct TaskContent(string Prompt, string Reasoning, string Answer);
