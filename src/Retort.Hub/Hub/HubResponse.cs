using System.Net;
using Retort.Hub.Download;

namespace Retort.Hub.Hub;

/// <summary>
/// A hub answer whose body is read under a <see cref="TransferWatchdog"/>: a read that stalls becomes a
/// <see cref="TransferInterruptedException"/> naming the address and the limit, which callers retry like a
/// dropped connection.
/// </summary>
internal sealed class HubResponse(HttpResponseMessage message, TransferWatchdog watchdog, Uri url) : IDisposable
{
    private Stream? _body;

    public HttpResponseMessage Message { get; } = message;

    public HttpStatusCode StatusCode => Message.StatusCode;

    /// <summary>Where the answer came from after redirects, without the query (signed CDN addresses carry credentials there).</summary>
    public string Url { get; } = HubClient.Describe(url);

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            _body ??= await Message.Content.ReadAsStreamAsync(watchdog.Token).ConfigureAwait(false);
            int n = await _body.ReadAsync(buffer, watchdog.Token).ConfigureAwait(false);
            watchdog.Received(n);
            return n;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested && watchdog.StallReason is { } reason)
        {
            throw new TransferInterruptedException($"{Url} stalled: {reason}", ex);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new TransferInterruptedException($"{Url}: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        _body?.Dispose();
        Message.Dispose();
        watchdog.Dispose();
    }
}
