using System.Text.RegularExpressions;
using Retort.Engine;
using Retort.Hub.Catalog;

namespace Retort.Hub.Hub;

/// <summary>
/// What a user asked for: a catalog alias (<c>deepseek-r1:1.5b</c>), a repo (<c>owner/name</c>) or a GGUF repo
/// with a quant tag (<c>owner/name-GGUF:Q4_K_M</c>). <see cref="Name"/> is the name the model gets in the store.
/// </summary>
internal sealed partial record ModelReference(string Name, string Repo, string? Tag, string Revision)
{
    public const string MainRevision = "main";

    /// <summary>The source as recorded in the manifest: the repo, with the quant tag that was chosen.</summary>
    public static string Source(string repo, string? tag) => tag is null ? repo : $"{repo}:{tag}";

    /// <summary>True for a catalog alias or a well-formed <c>owner/name[:TAG]</c>; no network.</summary>
    public static bool TryParse(string text, out ModelReference reference)
    {
        reference = null!;
        text = text.Trim();
        if (ModelCatalog.TryResolve(text, out var target))
        {
            var canonical = ModelCatalog.Names.First(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            var m = RepoPattern().Match(target);
            if (!m.Success) return false;
            reference = new ModelReference(canonical, m.Groups["repo"].Value, TagOf(m), MainRevision);
            return true;
        }
        var match = RepoPattern().Match(text);
        if (!match.Success) return false;
        reference = new ModelReference(text, match.Groups["repo"].Value, TagOf(match), MainRevision);
        return true;
    }

    /// <summary>Like <see cref="TryParse"/>, but a miss is an error that suggests close aliases or shows the expected form.</summary>
    public static ModelReference Parse(string text)
    {
        if (TryParse(text, out var reference)) return reference;
        if (ModelCatalog.IsAliasLike(text)) ModelCatalog.Resolve(text); // throws, with suggestions
        throw new RetortException($"'{text}' is not a model name: expected a catalog alias ({string.Join(", ", ModelCatalog.Names)}), owner/name or owner/name:QUANT");
    }

    private static string? TagOf(Match m) => m.Groups["tag"].Success ? m.Groups["tag"].Value : null;

    // Hub repo ids: owner/name of letters, digits, '-', '_', '.'; an optional :TAG picks a GGUF quantization.
    [GeneratedRegex(@"^(?<repo>[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*)(?::(?<tag>[A-Za-z0-9._-]+))?$")]
    private static partial Regex RepoPattern();
}
