using Retort.Engine;

namespace Retort.Hub.Hub;

/// <summary>
/// Which files of a repo make the model Retort will run, decided from the listing alone: a Hugging Face
/// folder (config, tokenizer, chat template, safetensors; never .bin/.pt/onnx) or the GGUF file(s) of one
/// quantization. <see cref="ModelFile"/> is what the loader opens, relative to the model's folder ("" = the folder).
/// </summary>
internal sealed record PullPlan(ModelReference Reference, string Commit, IReadOnlyList<HubFile> Files, string ModelFile, string? Tag)
{
    public const string DefaultTag = "Q4_K_M";

    private static readonly HashSet<string> FolderFiles = new(StringComparer.Ordinal)
    {
        "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
        "model.safetensors.index.json",
    };

    public long TotalBytes => Files.Sum(f => f.Size);

    /// <summary>The manifest's record of where the model came from.</summary>
    public string Source => ModelReference.Source(Reference.Repo, Tag);

    public static PullPlan Create(ModelReference reference, RepoListing listing)
    {
        var ggufs = listing.Files
            .Where(f => f.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            // Vision projectors ride along in some GGUF repos; they are not language models.
            .Where(f => !Path.GetFileName(f.Path).StartsWith("mmproj", StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (reference.Tag is not null)
        {
            if (ggufs.Count == 0)
                throw new RetortException($"{reference.Repo} has no .gguf files, so the quant tag ':{reference.Tag}' cannot be chosen: pull {reference.Repo} without a tag for its safetensors");
            return ForGguf(reference, listing, ggufs, reference.Tag);
        }
        var folder = FolderPlan(reference, listing);
        if (folder is not null) return folder;
        if (ggufs.Count > 0) return ForGguf(reference, listing, ggufs, tag: null);

        var found = listing.Files.Count == 0 ? "none" : string.Join(", ", listing.Files.Take(8).Select(f => f.Path)) + (listing.Files.Count > 8 ? $", ... ({listing.Files.Count} files)" : "");
        throw new RetortException($"{reference.Repo} has no files Retort can use: expected config.json, tokenizer.json and *.safetensors, or .gguf files; found {found}");
    }

    private static PullPlan? FolderPlan(ModelReference reference, RepoListing listing)
    {
        // Only the top level: subfolders hold other formats (original/, onnx/) or other models.
        var files = listing.Files.Where(f => !f.Path.Contains('/') && (FolderFiles.Contains(f.Path)
            || (f.Path.EndsWith(".safetensors", StringComparison.Ordinal) && !f.Path.StartsWith("consolidated", StringComparison.Ordinal)))).ToList();
        bool complete = files.Any(f => f.Path == "config.json") && files.Any(f => f.Path == "tokenizer.json")
            && files.Any(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal));
        return complete ? new PullPlan(reference, listing.Commit, files, "", null) : null;
    }

    private static PullPlan ForGguf(ModelReference reference, RepoListing listing, List<HubFile> ggufs, string? tag)
    {
        var groups = ggufs.GroupBy(f => QuantTags.Split(f.Path).Group, StringComparer.Ordinal)
            .Select(g => new { Group = g.Key, Tag = QuantTags.Of(g.Key), Files = g.OrderBy(f => QuantTags.Split(f.Path).Part).ToList() })
            .OrderBy(g => g.Group, StringComparer.Ordinal)
            .ToList();
        string Available() => string.Join(", ", groups.Select(g => g.Tag ?? g.Group).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal));

        var chosen = tag is not null
            ? groups.Where(g => QuantTags.Carries(g.Group, tag))
                // An exact tag beats a longer name that merely contains it (Q4_K_M over Q4_K_M-imat).
                .OrderBy(g => string.Equals(g.Tag, tag, StringComparison.OrdinalIgnoreCase) ? 0 : 1).ThenBy(g => g.Group.Length).FirstOrDefault()
            : groups.FirstOrDefault(g => string.Equals(g.Tag, DefaultTag, StringComparison.OrdinalIgnoreCase)) ?? groups[0];
        if (chosen is null)
            throw new RetortException($"{reference.Repo} has no GGUF file with the quant tag '{tag}': available tags: {Available()}");

        int parts = QuantTags.Split(chosen.Files[0].Path).Parts;
        var present = chosen.Files.Select(f => QuantTags.Split(f.Path).Part).ToHashSet();
        var missing = Enumerable.Range(1, parts).Where(k => !present.Contains(k)).ToList();
        if (missing.Count > 0 || chosen.Files.Count != parts)
            throw new RetortException($"{reference.Repo}: the split GGUF {chosen.Group} is incomplete: expected {parts} parts, missing part(s) {string.Join(", ", missing)}");

        var chosenTag = chosen.Tag ?? tag?.ToUpperInvariant();
        return new PullPlan(reference, listing.Commit, chosen.Files, chosen.Files[0].Path, chosenTag);
    }
}
