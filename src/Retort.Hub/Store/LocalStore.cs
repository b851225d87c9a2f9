using System.Text.Json;
using Retort.Engine;
using Retort.Engine.IO;

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

    /// <summary>Downloads in progress: partial and verified files of pulls that have not finished, never listed.</summary>
    public string StagingDir => Path.Combine(Root, "tmp");

    /// <summary>
    /// Lock files, one per model ever pulled (as huggingface_hub keeps .locks/): never deleted, since
    /// removing a lock file while another process waits on it would let two pulls hold "the" lock.
    /// </summary>
    public string LocksDir => Path.Combine(Root, ".locks");

    /// <summary>The file a pull of <paramref name="name"/> locks.</summary>
    public string LockPath(string name) => Path.Combine(LocksDir, Path.GetFileName(FolderFor(name)) + ".lock");

    public static LocalStore Default() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>The store RETORT_HOME names (default ~/.retort), read through <paramref name="getVariable"/> so tests need not touch the process environment.</summary>
    public static LocalStore FromEnvironment(Func<string, string?> getVariable)
    {
        var home = getVariable("RETORT_HOME");
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

    /// <summary>
    /// The folder (relative to <see cref="Root"/>, '/'-separated) a store name is kept in: lower case, '/' as "--"
    /// (which hub repo names cannot contain) and ':' as '@', so repo names, tags and aliases never collide.
    /// </summary>
    public static string FolderFor(string name)
    {
        var safe = new string(name.ToLowerInvariant().Replace("/", "--").Replace(':', '@')
            .Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@' ? c : '_').ToArray()).Trim('.');
        return "models/" + (safe.Length == 0 ? "_" : safe);
    }

    /// <summary>
    /// Makes a finished download a model: the folder of verified files is renamed into models/ (one atomic
    /// rename on the same disk), then the manifest entry is written. A crash between the two leaves a folder
    /// that no entry names, which is invisible and replaced by the next pull.
    /// </summary>
    public void Place(string completeDir, StoreEntry entry)
    {
        if (List().FirstOrDefault(e => string.Equals(e.Folder, entry.Folder, StringComparison.OrdinalIgnoreCase)) is { } other)
            throw new RetortException($"The store folder {entry.Folder} already holds '{other.Name}': remove it with `retort rm {other.Name}` first");
        var target = Path.Combine(Root, entry.Folder);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Directory.Move(completeDir, target);
        Put(entry);
    }

    /// <summary>
    /// Replaces the files of a model already in the store with a finished download: the old folder is
    /// renamed aside, the new one renamed in, the manifest entry rewritten, then the old files deleted.
    /// A crash in between leaves the new files under the old entry (the next `retort pull` sees the
    /// old revision and verifies them again) or a stray folder under tmp/ that nothing names.
    /// </summary>
    public void Replace(string completeDir, StoreEntry entry)
    {
        var target = Path.Combine(Root, entry.Folder);
        var old = Path.Combine(StagingDir, Path.GetFileName(entry.Folder) + ".old-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(StagingDir);
        if (Directory.Exists(target)) Directory.Move(target, old);
        Directory.Move(completeDir, target);
        Put(entry);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    private void Save(List<StoreEntry> entries)
    {
        AtomicFile.WriteText(ManifestPath, JsonSerializer.Serialize(entries, Json));
    }
}
