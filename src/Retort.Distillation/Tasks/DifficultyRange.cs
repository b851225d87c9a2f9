using System.Globalization;
using Retort.Engine;

namespace Retort.Distillation.Tasks;

/// <summary>
/// The difficulties a run of <see cref="TaskGenerator"/> draws from: <see cref="Min"/> to <see cref="Max"/>,
/// both inclusive, within 1–3. Written "2" or "1-2" on the command line.
/// </summary>
public sealed record DifficultyRange
{
    public const int Lowest = 1;
    public const int Highest = 3;

    public DifficultyRange(int min, int max)
    {
        if (min < Lowest || max > Highest || min > max)
            throw new RetortException($"difficulty range {min}-{max} is not within {Lowest}-{Highest} with the lower bound first");
        Min = min;
        Max = max;
    }

    /// <summary>Every difficulty: what runs drew from before the range could be chosen, so their seeds give the same tasks.</summary>
    public static DifficultyRange All { get; } = new(Lowest, Highest);

    public int Min { get; }

    public int Max { get; }

    public bool Contains(int difficulty) => difficulty >= Min && difficulty <= Max;

    public override string ToString() =>
        Min == Max ? Min.ToString(CultureInfo.InvariantCulture) : $"{Min.ToString(CultureInfo.InvariantCulture)}-{Max.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>"2" or "1-3" (spaces around the parts allowed).</summary>
    public static DifficultyRange Parse(string text)
    {
        string[] parts = text.Split('-');
        if (parts.Length is 1 or 2
            && TryLevel(parts[0], out int min)
            && TryLevel(parts[^1], out int max)
            && min <= max)
            return new DifficultyRange(min, max);
        throw new RetortException($"--difficulty must be {Lowest}, 2, {Highest} or a range such as 1-2 (lower bound first), found '{text}'");
    }

    private static bool TryLevel(string part, out int level) =>
        int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out level) && level >= Lowest && level <= Highest;
}
