using System.Security.Cryptography;
using System.Text;
using Retort.Engine;
using Retort.Hub.Download;
using Retort.Hub.Hub;
using Retort.Hub.Store;

namespace Retort.Hub.Pull;

/// <summary>
/// <c>retort pull NAME</c>: resolves the name, lists the repo, picks the files, downloads them a few at a
/// time into the store's staging area (resumable, verified), and only then makes the model visible.
/// Staging lives at tmp/&lt;folder&gt;/partial (growing files) and tmp/&lt;folder&gt;/complete (verified files,
/// laid out as the model folder will be), so a rerun after a crash picks up both.
/// </summary>
public sealed class ModelPuller
{
    private readonly LocalStore _store;
    private readonly HubSettings _settings;
    private readonly RetryPolicy _retry;
    private readonly HttpMessageHandler? _handler;

    public ModelPuller(LocalStore store, HubSettings settings)
        : this(store, settings, RetryPolicy.Default)
    {
    }

    internal ModelPuller(LocalStore store, HubSettings settings, RetryPolicy retry, HttpMessageHandler? handler = null)
    {
        _store = store;
        _settings = settings;
        _retry = retry;
        _handler = handler;
    }

    /// <summary>True when <paramref name="text"/> names something the hub could provide (an alias, owner/name or owner/name:QUANT).</summary>
    public static bool IsHubName(string text) => ModelReference.TryParse(text, out _);

    /// <summary>The store entry for a hub name (alias spelled any way, repo, repo:tag) if it was pulled before; no network.</summary>
    public StoreEntry? FindPulled(string text) =>
        _store.Find(text) ?? (ModelReference.TryParse(text, out var r) ? _store.Find(r.Name) : null);

    /// <summary>
    /// Pulls NAME into the store. A model already there is used as it is, unless
    /// <paramref name="checkForUpdate"/> (what `retort pull` does, online): then the repo is listed
    /// and, when its revision differs from the one pulled, the new files are fetched (files that did
    /// not change are copied from the present model and only verified) and the model is replaced.
    /// </summary>
    public async Task<PullResult> PullAsync(string name, IPullProgress progress, CancellationToken cancellationToken = default, bool checkForUpdate = false)
    {
        var reference = ModelReference.Parse(name);
        if (FindPulled(name) is { } existing && (!checkForUpdate || _settings.Offline))
            return new PullResult(existing, Path.Combine(_store.Root, existing.ModelPath), AlreadyPresent: true);
        if (_settings.Offline)
            throw new RetortException($"'{name}' is not in the local store {_store.Root} and downloads are off (--offline or HF_HUB_OFFLINE): pull it while online first");

        // One pull per model at a time, across processes: a second `retort pull` (or a `run` that
        // pulls) waits, then finds the model placed by the first.
        using var pullLock = await LockAsync(reference.Name, progress, cancellationToken).ConfigureAwait(false);
        var present = FindPulled(name);
        if (present != null && !checkForUpdate)
            return new PullResult(present, Path.Combine(_store.Root, present.ModelPath), AlreadyPresent: true);

        using var client = new HubClient(_settings, _retry, _handler);
        var listing = await client.ListAsync(reference.Repo, reference.Revision, cancellationToken).ConfigureAwait(false);
        var plan = PullPlan.Create(reference, listing);
        if (present != null && present.Commit == plan.Commit && present.Repo == plan.Source)
            return new PullResult(present, Path.Combine(_store.Root, present.ModelPath), AlreadyPresent: true);
        progress.Planned(plan.Source, plan.Commit, plan.Files);

        string folder = present?.Folder ?? LocalStore.FolderFor(reference.Name);
        string staging = Path.Combine(_store.StagingDir, Path.GetFileName(folder));
        string partialDir = Path.Combine(staging, "partial");
        string completeDir = Path.Combine(staging, "complete");
        RemoveStrayFiles(completeDir, plan.Files);
        if (present != null) SeedFromPresentModel(Path.Combine(_store.Root, present.Folder), completeDir, plan.Files);

        var downloader = new ResumableDownloader(client, _retry, _settings);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _settings.ParallelDownloads), CancellationToken = cancellationToken };
        try
        {
            // Largest first, so the long transfers overlap the small ones instead of running alone at the end.
            await Parallel.ForEachAsync(plan.Files.OrderByDescending(f => f.Size), parallel, (file, ct) =>
                new ValueTask(downloader.DownloadAsync(reference.Repo, plan.Commit, file,
                    PartialPath(partialDir, file), Path.Combine(completeDir, file.Path), progress, ct))).ConfigureAwait(false);
        }
        catch
        {
            TidyStaging(staging);
            throw;
        }

        string modelPath = plan.ModelFile.Length == 0 ? folder : folder + "/" + plan.ModelFile;
        var entry = new StoreEntry(present?.Name ?? reference.Name, plan.Source, folder, modelPath, plan.TotalBytes, plan.Files.Count, DateTimeOffset.UtcNow, plan.Commit);
        if (present != null) _store.Replace(completeDir, entry);
        else _store.Place(completeDir, entry);
        Directory.Delete(staging, recursive: true);
        return new PullResult(entry, Path.Combine(_store.Root, modelPath), AlreadyPresent: false, Updated: present != null);
    }

    /// <summary>
    /// Copies the present model's files of the planned sizes into the staging area, where the
    /// downloader checks them against the new listing like any finished file: unchanged files are
    /// verified instead of fetched, changed ones fail the check and are downloaded.
    /// </summary>
    private static void SeedFromPresentModel(string modelFolder, string completeDir, IReadOnlyList<HubFile> files)
    {
        foreach (var file in files)
        {
            string source = Path.Combine(modelFolder, file.Path), target = Path.Combine(completeDir, file.Path);
            if (File.Exists(target) || !File.Exists(source) || new FileInfo(source).Length != file.Size) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }
    }

    /// <summary>An exclusive lock on .locks/&lt;folder&gt;.lock, waited for while another pull holds it.</summary>
    private async Task<FileStream> LockAsync(string name, IPullProgress progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_store.LocksDir);
        string path = _store.LockPath(name);
        bool announced = false;
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive flock on Unix, a sharing lock on Windows; the file
                // stays (deleting it would let a third pull lock a new file while a second holds the old).
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex) when (ex.HResult is SharingViolation or WouldBlock)
            {
                if (!announced) progress.Waiting(name);
                announced = true;
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>What .NET reports for a file another handle locks: ERROR_SHARING_VIOLATION on Windows, EWOULDBLOCK from flock on Unix.</summary>
    private const int SharingViolation = unchecked((int)0x80070020), WouldBlock = 11;

    /// <summary>
    /// Partial files sit flat in partial/, named by a hash of the repo path: the listing's names may be as long
    /// as a file system allows, and a ".part" suffix must not push one over.
    /// </summary>
    private static string PartialPath(string partialDir, HubFile file) =>
        Path.Combine(partialDir, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(file.Path)))[..32] + ".part");

    /// <summary>Partial files smaller than this are not worth keeping for a resume after a failed pull.</summary>
    private const long ResumeWorthBytes = 1 << 20;

    /// <summary>
    /// After a failed or interrupted pull, keeps what is worth resuming (verified files, partials of at least
    /// <see cref="ResumeWorthBytes"/>) and removes the rest: small partials and every folder left empty, up to
    /// the store's tmp/ itself, so a pull that fetched nothing leaves nothing behind.
    /// </summary>
    private void TidyStaging(string staging)
    {
        try
        {
            if (Directory.Exists(staging))
            {
                foreach (var part in Directory.EnumerateFiles(staging, "*.part", SearchOption.AllDirectories))
                    if (new FileInfo(part).Length < ResumeWorthBytes) File.Delete(part);
                RemoveEmptyFolders(staging);
            }
            if (Directory.Exists(_store.StagingDir) && !Directory.EnumerateFileSystemEntries(_store.StagingDir).Any())
                Directory.Delete(_store.StagingDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Tidying is a courtesy: another pull may just be creating its own folder here. The real error follows.
        }
    }

    private static void RemoveEmptyFolders(string dir)
    {
        foreach (var sub in Directory.EnumerateDirectories(dir)) RemoveEmptyFolders(sub);
        if (!Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
    }

    /// <summary>Verified files the plan no longer wants (the repo changed between runs) must not ride along into the model.</summary>
    private static void RemoveStrayFiles(string completeDir, IReadOnlyList<HubFile> files)
    {
        if (!Directory.Exists(completeDir)) return;
        var wanted = files.Select(f => Path.GetFullPath(Path.Combine(completeDir, f.Path))).ToHashSet(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(completeDir, "*", SearchOption.AllDirectories))
            if (!wanted.Contains(Path.GetFullPath(path))) File.Delete(path);
    }
}
