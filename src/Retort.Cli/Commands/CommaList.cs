using System.Globalization;
using Retort.Engine;

namespace Retort.Cli.Commands;

/// <summary>
/// Option values that are comma-separated lists (llama-bench's <c>-p 128,512</c>): each item is
/// checked on its own, and a bad one is named with its position in the list.
/// </summary>
internal static class CommaList
{
    /// <summary>The items of <paramref name="text"/>, trimmed; an empty item is an error naming <paramref name="option"/>.</summary>
    public static IReadOnlyList<string> Items(string text, string option)
    {
        string[] items = text.Split(',', StringSplitOptions.TrimEntries);
        for (int i = 0; i < items.Length; i++)
            if (items[i].Length == 0)
                throw new RetortException($"{option}: item {i + 1} of '{text}' is empty; expected a comma-separated list such as 128,512");
        return items;
    }

    /// <summary>Token counts: whole numbers, 0 or more.</summary>
    public static IReadOnlyList<int> Counts(string text, string option)
    {
        var items = Items(text, option);
        var counts = new int[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            if (!int.TryParse(items[i], NumberStyles.None, CultureInfo.InvariantCulture, out counts[i]))
                throw new RetortException($"{option}: '{items[i]}' (item {i + 1} of '{text}') is not a token count (a whole number, 0 or more)");
        }
        return counts;
    }
}
