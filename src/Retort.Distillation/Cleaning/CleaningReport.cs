using System.Text.Json.Nodes;
using Retort.Distillation.IO;
using Retort.Engine.IO;

namespace Retort.Distillation.Cleaning;

/// <summary>How many traces came in, how many were kept, and how many were dropped for each reason.</summary>
public sealed record CleaningReport(int Input, int Kept, IReadOnlyDictionary<DropReason, int> Dropped, CleaningOptions Options)
{
    /// <summary>"too_long" for <see cref="DropReason.TooLong"/>: the names the JSON report uses.</summary>
    public static string Name(DropReason reason) =>
        string.Concat(reason.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    public JsonObject ToJson()
    {
        var dropped = new JsonObject();
        foreach (var reason in Enum.GetValues<DropReason>()) dropped[Name(reason)] = Dropped.GetValueOrDefault(reason);
        return new JsonObject
        {
            ["input"] = Input,
            ["kept"] = Kept,
            ["dropped"] = dropped,
            ["min_tokens"] = Options.MinTokens,
            ["max_tokens"] = Options.MaxTokens,
            ["near_duplicate_threshold"] = Options.NearDuplicateThreshold,
            ["near_duplicate_method"] = "MinHash, 128 hashes over character 5-grams of the lower-cased text, 32 LSH bands of 4",
            ["answers_verified"] = Options.References != null,
        };
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>, atomically.</summary>
    public void WriteJson(string path) => AtomicFile.WriteText(path, ToJson().ToJsonString(JsonlFile.IndentedOptions) + "\n");
}
