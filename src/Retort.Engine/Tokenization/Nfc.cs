using System.Text;

namespace Retort.Engine.Tokenization;

/// <summary>
/// Unicode NFC. string.Normalize cannot be used: under InvariantGlobalization (set for the whole
/// solution) it returns its input unchanged, and Qwen2 tokenizers depend on composition.
/// </summary>
internal static class Nfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Dictionary<int, int> Ccc = BuildCcc();
    private static readonly Dictionary<int, (int First, int Second)> Decomp = [];
    private static readonly Dictionary<long, int> Compose = [];

    // Code points that can change under NFC: marks, chars that do not survive decompose+recompose,
    // and chars that can be the second half of a composition. Text free of them is already NFC.
    private static readonly HashSet<int> Unstable = [];

    static Nfc()
    {
        ReadOnlySpan<int> d = NfcData.Decompositions;
        for (int i = 0; i < d.Length; i += 4)
        {
            Decomp[d[i]] = (d[i + 1], d[i + 2]);
            if (d[i + 3] == 1)
            {
                Compose[Key(d[i + 1], d[i + 2])] = d[i];
                Unstable.Add(d[i + 2]);
            }
            else
            {
                Unstable.Add(d[i]);
            }
        }
        foreach (int cp in Ccc.Keys) Unstable.Add(cp);
        for (int v = VBase; v < VBase + VCount; v++) Unstable.Add(v);
        for (int t = TBase + 1; t < TBase + TCount; t++) Unstable.Add(t);
    }

    public static string Normalize(string s)
    {
        if (IsStable(s)) return s;

        var cps = new List<int>(s.Length);
        foreach (Rune r in s.EnumerateRunes()) Decompose(r.Value, cps);
        ReorderMarks(cps);
        ComposeInPlace(cps);

        var sb = new StringBuilder(s.Length);
        foreach (int cp in cps) sb.Append(char.ConvertFromUtf32(cp));
        string result = sb.ToString();
        return result == s ? s : result;
    }

    private static bool IsStable(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            // Nothing below U+0300 decomposes without recomposing or combines with a neighbour.
            if (c < 0x300) continue;
            int cp = c;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                cp = char.ConvertToUtf32(c, s[i + 1]);
                i++;
            }
            if (Unstable.Contains(cp)) return false;
        }
        return true;
    }

    private static Dictionary<int, int> BuildCcc()
    {
        var map = new Dictionary<int, int>();
        ReadOnlySpan<int> c = NfcData.CombiningClasses;
        for (int i = 0; i < c.Length; i += 2) map[c[i]] = c[i + 1];
        return map;
    }

    private static long Key(int a, int b) => ((long)a << 21) | (uint)b;

    private static int ClassOf(int cp) => Ccc.TryGetValue(cp, out int k) ? k : 0;

    private static void Decompose(int cp, List<int> output)
    {
        if (cp >= SBase && cp < SBase + SCount)
        {
            int sIndex = cp - SBase;
            output.Add(LBase + sIndex / NCount);
            output.Add(VBase + sIndex % NCount / TCount);
            int t = sIndex % TCount;
            if (t != 0) output.Add(TBase + t);
            return;
        }
        if (Decomp.TryGetValue(cp, out var pair))
        {
            Decompose(pair.First, output);
            if (pair.Second >= 0) Decompose(pair.Second, output);
            return;
        }
        output.Add(cp);
    }

    // Canonical ordering: a stable sort of each run of non-starters by combining class.
    private static void ReorderMarks(List<int> cps)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int k = ClassOf(cps[i]);
            if (k == 0) continue;
            int j = i;
            int cp = cps[i];
            while (j > 0 && ClassOf(cps[j - 1]) > k)
            {
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = cp;
        }
    }

    private static void ComposeInPlace(List<int> cps)
    {
        int starter = -1;
        int lastClass = -1; // class of the last mark kept after the starter; -1 when none
        int write = 0;
        for (int read = 0; read < cps.Count; read++)
        {
            int cp = cps[read];
            int k = ClassOf(cp);
            // A mark is blocked from the starter by any kept character of class 0 or >= its own.
            if (starter >= 0 && (lastClass == -1 || (lastClass != 0 && lastClass < k)))
            {
                int composed = TryCompose(cps[starter], cp);
                if (composed >= 0)
                {
                    cps[starter] = composed;
                    continue;
                }
            }
            if (k == 0)
            {
                starter = write;
                lastClass = -1;
            }
            else
            {
                lastClass = k;
            }
            cps[write++] = cp;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    private static int TryCompose(int a, int b)
    {
        if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount)
            return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
        if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount)
            return a + (b - TBase);
        return Compose.TryGetValue(Key(a, b), out int c) ? c : -1;
    }
}
