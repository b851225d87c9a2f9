namespace Retort.Engine.Generation;

/// <summary>Whether a piece of generated text belongs to the model's reasoning or to its answer.</summary>
public enum TextKind
{
    Reasoning,
    Answer,
}
