using System.Text.Json;
using Retort.Engine;

namespace Retort.Hub.Store;

/// <summary>
/// The local model store (default ~/.retort, RETORT_HOME overrides). The manifest is the only
/// source of truth for what is visible: files land in models/ first and the entry is written last,
/// so an interrupted pull never shows up as a half-written model.
/// </summary>
public sealed class LocalStore
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public LocalStore(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }
    public string ManifestPath => Path.Combine(Root, "manifest.json");
    public string ModelsDir => Path.Combine(Root, "models");

    public static LocalStore Default()
    {
        var home = Environment.GetEnvironmentVariable("RETORT_HOME");
        if (string.IsNullOrWhiteSpace(home))
            home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".retort");
        return new LocalStore(home);
    }

    public IReadOnlyList<StoreEntry> List()
    {
        if (!File.Exists(ManifestPath)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<StoreEntry>>(File.ReadAllText(ManifestPath), Json) ?? [];
        }
        catch (JsonException e)
        {
            throw new RetortException($"Store manifest {ManifestPath} is not valid JSON: {e.Message}");
        }
    }

    public StoreEntry? Find(string name) =>
        List().FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Adds or replaces an entry; written through a temp file and rename so readers never see a torn manifest.</summary>
    public void Put(StoreEntry entry)
    {
        var entries = List().Where(e => !string.Equals(e.Name, entry.Name, StringComparison.OrdinalIgnoreCase)).ToList();
        entries.Add(entry);
        Save(entries);
    }

    /// <summary>Removes the entry first (so the model disappears atomically), then its files.</summary>
    public void Remove(string name)
    {
        var entry = Find(name) ?? throw new RetortException($"No model named '{name}' in the store {Root}: expected one of the names `retort list` shows");
        Save(List().Where(e => !string.Equals(e.Name, entry.Name, StringComparison.OrdinalIgnoreCase)).ToList());
        var folder = Path.Combine(Root, entry.Folder);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    /// <summary>Full path of the model file or folder for a store name, or null when the name is not in the store.</summary>
    public string? ResolveModelPath(string name)
    {
        var entry = Find(name);
        return entry is null ? null : Path.Combine(Root, entry.ModelPath);
    }

    private void Save(List<StoreEntry> entries)
    {
        Directory.CreateDirectory(Root);
        var tmp = ManifestPath + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(entries, Json));
        File.Move(tmp, ManifestPath, overwrite: true);
    }
}
