namespace Retort.Distillation.Tasks;

/// <summary>
/// A tiny pseudo-random generator (SplitMix64) whose sequence is fixed by its definition, so a seed
/// gives the same tasks on every runtime and version (System.Random promises no such thing).
/// </summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>An independent seed for item <paramref name="index"/> of a run, so item i does not depend on how many came before.</summary>
    public static ulong Mix(ulong seed, ulong index)
    {
        var rng = new SplitMix64(seed ^ (index * 0x9E3779B97F4A7C15UL));
        rng.Next();
        return rng.Next();
    }

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform integer in [lo, hi] (inclusive).</summary>
    public int Int(int lo, int hi)
    {
        ulong span = (ulong)((long)hi - lo + 1);
        return (int)(lo + (long)(Next() % span));
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[Int(0, items.Count - 1)];

    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Int(0, i);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
