namespace Retort.Distillation.Tasks;

/// <summary>
/// The choices of one slot of a prompt grammar: those any split may use, and those reserved for held-out
/// prompts (see <see cref="PhrasingSplit"/>).
/// </summary>
internal sealed record Phrase<T>(IReadOnlyList<T> Open, IReadOnlyList<T> Reserved);

/// <summary>Shorthand for the common case, a slot of words.</summary>
internal static class Phrase
{
    public static Phrase<T> Of<T>(T[] open, params T[] reserved) => new(open, reserved);
}
