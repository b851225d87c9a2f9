namespace Retort.Distillation.Traces;

/// <summary>A prompt to send to the teacher, with its id (what resuming keys on) and the reference answer if the file has one.</summary>
public sealed record PromptItem(string Id, string Prompt, string? Reference);
