using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Retort.Engine;
using Retort.Hub.Hub;

namespace Retort.Hub.Download;

/// <summary>
/// Downloads one file into a partial file, resuming with an HTTP Range request from whatever is already
/// there (after a dropped connection, or in a later run after a crash). The result is checked against
/// the listing (sha256 for LFS files, size for the others) before it is renamed to its complete name;
/// a mismatch deletes it. Disk errors are not retried: they propagate and the partial file stays for later.
/// An attempt counts as progress only when it kept the minimum pace a transfer must move at (see MadeProgress).
/// </summary>
internal sealed class ResumableDownloader(HubClient client, RetryPolicy retry, HubSettings settings)
{
    private const int BufferSize = 1 << 20;

    public async Task DownloadAsync(string repo, string commit, HubFile file, string partialPath, string completePath,
        IPullProgress progress, CancellationToken cancellationToken)
    {
        if (File.Exists(completePath))
        {
            // Verified by an earlier, interrupted pull; checked again in case the repo changed since.
            if (await MismatchAsync(completePath, file, cancellationToken).ConfigureAwait(false) is null)
            {
                progress.Transferred(file, file.Size);
                progress.Verified(file);
                return;
            }
            File.Delete(completePath);
        }

        int fruitless = 0;
        while (true)
        {
            long have = File.Exists(partialPath) ? new FileInfo(partialPath).Length : 0;
            if (have > file.Size)
            {
                File.Delete(partialPath);
                have = 0;
            }
            progress.Transferred(file, have);
            if (have == file.Size) break;
            long started = Stopwatch.GetTimestamp();
            try
            {
                long now = await TransferAsync(repo, commit, file, partialPath, have, progress, cancellationToken).ConfigureAwait(false);
                fruitless = now == file.Size || MadeProgress(now - have, started) ? 0 : fruitless + 1;
            }
            catch (TransferInterruptedException ex)
            {
                long now = File.Exists(partialPath) ? new FileInfo(partialPath).Length : 0;
                fruitless = MadeProgress(now - have, started) ? 0 : fruitless + 1;
                if (fruitless >= retry.MaxAttempts)
                    throw new RetortException($"download of {file.Path} from {repo} kept failing ({ex.Message}) at byte {now} of {file.Size}; run the pull again to resume");
                // The first retry is immediate: a dropped connection usually just needs a new one.
                await retry.Delay(fruitless <= 1 ? TimeSpan.Zero : retry.Backoff(fruitless - 1), cancellationToken).ConfigureAwait(false);
            }
        }

        if (await MismatchAsync(partialPath, file, cancellationToken).ConfigureAwait(false) is { } mismatch)
        {
            File.Delete(partialPath);
            throw new RetortException($"{mismatch} for {file.Path} from {repo}; the download was deleted, pull again");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(completePath)!);
        File.Move(partialPath, completePath, overwrite: true);
        progress.Verified(file);
    }

    /// <summary>
    /// True when an attempt moved at least the minimum pace (<see cref="HubSettings.MinimumBytesPerWindow"/> per
    /// <see cref="HubSettings.ThroughputWindow"/>) over its whole life, so a server that trickles, stalls and
    /// trickles again on each new connection cannot keep the retries going for ever.
    /// </summary>
    private bool MadeProgress(long gained, long started)
    {
        double windows = Math.Max(1, Stopwatch.GetElapsedTime(started) / settings.ThroughputWindow);
        return gained > 0 && gained >= settings.MinimumBytesPerWindow * windows;
    }

    /// <summary>One request from <paramref name="have"/> to the end; returns the partial file's length afterwards.</summary>
    private async Task<long> TransferAsync(string repo, string commit, HubFile file, string partialPath, long have,
        IPullProgress progress, CancellationToken cancellationToken)
    {
        using var response = await client.OpenFileAsync(repo, commit, file.Path, have, cancellationToken).ConfigureAwait(false);
        long start;
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The server's file is not longer than ours: start over rather than trust our bytes.
            File.Delete(partialPath);
            throw new TransferInterruptedException($"the server refused the range from byte {have} (416)");
        }
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            start = response.Message.Content.Headers.ContentRange?.From ?? -1;
            if (start != have) throw new TransferInterruptedException($"asked for bytes from {have}, the server sent a range from {start}");
        }
        else
        {
            start = 0; // the range was ignored: the whole file follows
        }

        // Made only now that bytes are coming, so a refused or redirected-away request leaves no folder.
        Directory.CreateDirectory(Path.GetDirectoryName(partialPath)!);
        await using var output = new FileStream(partialPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        output.SetLength(start);
        output.Position = start;
        long done = start;
        progress.Transferred(file, done);
        var buffer = new byte[BufferSize];
        while (true)
        {
            int n;
            try
            {
                // Network side only: a stall or a dropped connection is worth resuming; write errors below (a full disk) are not retried.
                n = await response.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (TransferInterruptedException)
            {
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }
            if (n == 0) break;
            if (done + n > file.Size)
            {
                await output.DisposeAsync().ConfigureAwait(false);
                File.Delete(partialPath);
                throw new RetortException($"size mismatch for {file.Path} from {repo} ({response.Url}): the hub sent more than the {file.Size} bytes its listing gives; the download was deleted, pull again");
            }
            await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            done += n;
            progress.Transferred(file, done);
        }
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (done < file.Size) throw new TransferInterruptedException($"{response.Url}: the connection ended after byte {done} of {file.Size}");
        return done;
    }

    /// <summary>Why the file does not match the listing, or null when it does.</summary>
    internal static async Task<string?> MismatchAsync(string path, HubFile file, CancellationToken cancellationToken)
    {
        long length = new FileInfo(path).Length;
        if (length != file.Size) return $"size mismatch: expected {file.Size} bytes, found {length}";
        if (file.Sha256 is null) return null;
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        return actual == file.Sha256 ? null : $"checksum mismatch: expected sha256 {file.Sha256}, found {actual}";
    }
}
