namespace Retort.Engine.Generation;

/// <summary>A piece of streamed output, already split into reasoning or answer.</summary>
public readonly record struct GenerationChunk(TextKind Kind, string Text);
