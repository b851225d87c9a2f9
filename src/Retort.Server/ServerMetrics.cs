using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Retort.Server;

/// <summary>Counters behind GET /metrics, written in the Prometheus text format.</summary>
internal sealed class ServerMetrics
{
    private readonly ConcurrentDictionary<string, long> _requests = new();
    private long _promptTokens;
    private long _completionTokens;
    private long _rejected;
    private long _cancelled;

    public void CountRequest(string endpoint) => _requests.AddOrUpdate(endpoint, 1, (_, n) => n + 1);

    public void CountTokens(int prompt, int completion)
    {
        Interlocked.Add(ref _promptTokens, prompt);
        Interlocked.Add(ref _completionTokens, completion);
    }

    public void CountRejected() => Interlocked.Increment(ref _rejected);

    public void CountCancelled() => Interlocked.Increment(ref _cancelled);

    public string Render(SlotPool pool)
    {
        var sb = new StringBuilder();
        void Metric(string name, string type, string help, IEnumerable<(string Labels, double Value)> values)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in values)
                sb.Append(name).Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        Metric("retort_requests_total", "counter", "HTTP requests by endpoint.",
            _requests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => ($"{{endpoint=\"{kv.Key}\"}}", (double)kv.Value)));
        Metric("retort_prompt_tokens_total", "counter", "Prompt tokens received.", [("", Interlocked.Read(ref _promptTokens))]);
        Metric("retort_completion_tokens_total", "counter", "Tokens generated, for clients that left too.", [("", Interlocked.Read(ref _completionTokens))]);
        Metric("retort_rejected_requests_total", "counter", "Requests refused with 429 (queue full).", [("", Interlocked.Read(ref _rejected))]);
        Metric("retort_cancelled_generations_total", "counter", "Generations stopped because the client went away.",
            [("", Interlocked.Read(ref _cancelled))]);
        Metric("retort_slots_total", "gauge", "Generation slots.", [("", pool.Count)]);
        Metric("retort_slots_busy", "gauge", "Slots generating now.", [("", pool.Busy)]);
        Metric("retort_queue_depth", "gauge", "Requests waiting for a slot.", [("", pool.Queued)]);
        using var process = Process.GetCurrentProcess();
        Metric("process_resident_memory_bytes", "gauge", "Resident memory of the server process.", [("", process.WorkingSet64)]);
        Metric("retort_managed_heap_bytes", "gauge", "Bytes on the managed heap.", [("", GC.GetTotalMemory(false))]);
        return sb.ToString();
    }
}
