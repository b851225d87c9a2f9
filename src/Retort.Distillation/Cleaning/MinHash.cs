using System.Text;
using Retort.Distillation.Tasks;

namespace Retort.Distillation.Cleaning;

/// <summary>
/// Near-duplicate detection: each text becomes the set of its character 5-grams (lower-cased, runs of
/// white space as one space; characters rather than words so Chinese works too), summarised by 128
/// MinHash values whose agreement estimates the Jaccard similarity. Candidates are found with 32 bands
/// of 4 values (locality-sensitive hashing), so two texts at similarity 0.9 meet with probability
/// above 0.9999; candidates are then confirmed against the threshold. The hash functions come from a
/// fixed seed, so results are the same on every run.
/// </summary>
internal sealed class MinHash
{
    public const int Hashes = 128, Bands = 32, Rows = Hashes / Bands, Shingle = 5;

    private static readonly (ulong A, ulong B)[] Coefficients = MakeCoefficients();

    private readonly double _threshold;
    private readonly List<ulong[]> _kept = new();
    private readonly Dictionary<(int Band, ulong Key), List<int>> _buckets = new();

    public MinHash(double threshold) => _threshold = threshold;

    /// <summary>True when <paramref name="text"/> is a near-duplicate of one added before; otherwise adds it.</summary>
    public bool IsDuplicateOrAdd(string text)
    {
        ulong[] signature = Signature(text);
        var checkedIds = new HashSet<int>();
        for (int band = 0; band < Bands; band++)
            if (_buckets.TryGetValue((band, BandKey(signature, band)), out var ids))
                foreach (int id in ids)
                    if (checkedIds.Add(id) && Similarity(signature, _kept[id]) >= _threshold) return true;
        int index = _kept.Count;
        _kept.Add(signature);
        for (int band = 0; band < Bands; band++)
        {
            var key = (band, BandKey(signature, band));
            if (!_buckets.TryGetValue(key, out var list)) _buckets[key] = list = new List<int>();
            list.Add(index);
        }
        return false;
    }

    public static double Similarity(ulong[] a, ulong[] b)
    {
        int same = 0;
        for (int i = 0; i < Hashes; i++) if (a[i] == b[i]) same++;
        return same / (double)Hashes;
    }

    public static ulong[] Signature(string text)
    {
        string normal = Normalize(text);
        var signature = new ulong[Hashes];
        Array.Fill(signature, ulong.MaxValue);
        int count = Math.Max(1, normal.Length - Shingle + 1);
        for (int start = 0; start < count; start++)
        {
            ulong x = Fnv1a(normal.AsSpan(start, Math.Min(Shingle, normal.Length - start)));
            for (int i = 0; i < Hashes; i++)
            {
                ulong h = Mix(Coefficients[i].A, x, Coefficients[i].B);
                if (h < signature[i]) signature[i] = h;
            }
        }
        return signature;
    }

    private static string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool space = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = sb.Length > 0;
                continue;
            }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    private static ulong BandKey(ulong[] signature, int band)
    {
        ulong key = 14695981039346656037UL;
        for (int r = 0; r < Rows; r++) key = (key ^ signature[band * Rows + r]) * 1099511628211UL;
        return key;
    }

    private static ulong Fnv1a(ReadOnlySpan<char> chars)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in chars) h = (h ^ c) * 1099511628211UL;
        return h;
    }

    /// <summary>One of the hash functions: x mixed with its own key, multiplied by an odd constant, high bits folded in (cheap, well spread).</summary>
    private static ulong Mix(ulong a, ulong x, ulong b)
    {
        ulong h = (x ^ b) * a;
        return h ^ (h >> 29);
    }

    private static (ulong, ulong)[] MakeCoefficients()
    {
        var rng = new SplitMix64(0x5EED_D15711);
        var result = new (ulong, ulong)[Hashes];
        for (int i = 0; i < Hashes; i++) result[i] = (rng.Next() | 1, rng.Next());
        return result;
    }
}
