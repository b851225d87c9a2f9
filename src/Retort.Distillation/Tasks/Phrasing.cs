using Retort.Engine;

namespace Retort.Distillation.Tasks;

/// <summary>
/// Draws the wording of one prompt within a <see cref="PhrasingSplit"/>: training draws only open choices;
/// held-out and all draw from every choice, and the generator makes held-out items again until one of
/// their choices was a reserved one (<see cref="UsedReserved"/>).
/// </summary>
internal sealed class Phrasing(SplitMix64 rng, PhrasingSplit split)
{
    public PhrasingSplit Split => split;

    public bool UsedReserved { get; private set; }

    public T Pick<T>(Phrase<T> phrase)
    {
        if (split == PhrasingSplit.Training || phrase.Reserved.Count == 0) return rng.Pick(phrase.Open);
        int i = rng.Int(0, phrase.Open.Count + phrase.Reserved.Count - 1);
        if (i < phrase.Open.Count) return phrase.Open[i];
        UsedReserved = true;
        return phrase.Reserved[i - phrase.Open.Count];
    }

    /// <summary>Draws again from the start (the random stream goes on), for the next attempt at a held-out item.</summary>
    public void Reset() => UsedReserved = false;

    /// <summary>Makes one item's content, drawing again until it belongs to the split.</summary>
    public static TaskContent Make(SplitMix64 rng, PhrasingSplit split, Func<Phrasing, TaskContent> make)
    {
        var phrasing = new Phrasing(rng, split);
        for (int attempt = 0; attempt < 10_000; attempt++)
        {
            phrasing.Reset();
            var content = make(phrasing);
            if (split != PhrasingSplit.Heldout || phrasing.UsedReserved) return content;
        }
        throw new RetortException("internal: a task family has no reserved phrasing for held-out prompts");
    }
}
