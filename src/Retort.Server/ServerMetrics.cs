using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Retort.Engine.Model;

namespace Retort.Server;

/// <summary>Counters behind GET /metrics, written in the Prometheus text format.</summary>
internal sealed class ServerMetrics
{
    private readonly ConcurrentDictionary<string, long> _requests = new();
    private long _promptTokens;
    private long _completionTokens;
    private long _rejected;
    private long _cancelled;
    private long _prefillTokens;
    private long _decodeSteps;
    private long _decodedTokens;
    private long _decodeTicks;

    public void CountRequest(string endpoint) => _requests.AddOrUpdate(endpoint, 1, (_, n) => n + 1);

    public void CountTokens(int prompt, int completion)
    {
        Interlocked.Add(ref _promptTokens, prompt);
        Interlocked.Add(ref _completionTokens, completion);
    }

    public void CountPrefill(int tokens) => Interlocked.Add(ref _prefillTokens, tokens);

    /// <summary>One batched decode step: a token for each of <paramref name="batch"/> sequences.</summary>
    public void CountDecodeStep(int batch, TimeSpan elapsed)
    {
        Interlocked.Increment(ref _decodeSteps);
        Interlocked.Add(ref _decodedTokens, batch);
        Interlocked.Add(ref _decodeTicks, elapsed.Ticks);
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
        long steps = Interlocked.Read(ref _decodeSteps), decoded = Interlocked.Read(ref _decodedTokens);
        double decodeSeconds = TimeSpan.FromTicks(Interlocked.Read(ref _decodeTicks)).TotalSeconds;
        Metric("retort_prompt_tokens_computed_total", "counter", "Prompt tokens run through the model (those found in a slot's cache are not).",
            [("", Interlocked.Read(ref _prefillTokens))]);
        Metric("retort_decode_steps_total", "counter", "Batched decode steps (one forward pass each).", [("", steps)]);
        Metric("retort_decoded_tokens_total", "counter", "Tokens run through decode steps, summed over the sequences of each batch.",
            [("", decoded)]);
        Metric("retort_decode_batch_size_average", "gauge", "Sequences per decode step, on average since start.",
            [("", steps == 0 ? 0 : Math.Round((double)decoded / steps, 3))]);
        Metric("retort_decode_tokens_per_second", "gauge", "Decoded tokens per second spent in decode steps (all sequences together).",
            [("", decodeSeconds == 0 ? 0 : Math.Round(decoded / decodeSeconds, 2))]);
        Metric("retort_slots_total", "gauge", "Generation slots.", [("", pool.Count)]);
        Metric("retort_slots_busy", "gauge", "Slots generating now.", [("", pool.Busy)]);
        Metric("retort_queue_depth", "gauge", "Requests waiting for a slot or for KV pages.", [("", pool.Queued)]);
        var (used, capacity) = pool.CacheUse;
        Metric("retort_kv_cache_used_tokens", "gauge", "Positions filled in the slots' KV caches (kept for prefix reuse).", [("", used)]);
        Metric("retort_kv_cache_capacity_tokens", "gauge", "Positions the slots' KV caches could hold in all (their contexts; the pool holds less).", [("", capacity)]);
        var pages = pool.Pages;
        Metric("retort_kv_pages_total", "gauge", "Pages the shared KV pool may hand out (its budget).", [("", pages.MaxPages)]);
        Metric("retort_kv_pages_in_use", "gauge", "KV pages held by the slots' caches now.", [("", pages.InUse)]);
        Metric("retort_kv_pages_reserved", "gauge", "KV pages promised to running requests or held by idle slots' cached prefixes.", [("", pages.Reserved)]);
        Metric("retort_kv_pages_cached", "gauge", "KV pages held by idle slots' cached prefixes (dropped when a request needs them).", [("", pool.CachedPages)]);
        Metric("retort_kv_page_tokens", "gauge", "Positions per KV page.", [("", KvCache.PageSize)]);
        Metric("retort_kv_page_bytes", "gauge", "Bytes of one KV page.", [("", pages.PageBytes)]);
        Metric("retort_kv_allocated_bytes", "gauge", "Bytes of KV pages allocated so far (in use or free for reuse).", [("", pages.AllocatedBytes)]);
        Metric("retort_kv_budget_bytes", "gauge", "Bytes the KV pool may grow to.", [("", (double)pages.MaxPages * pages.PageBytes)]);
        using var process = Process.GetCurrentProcess();
        Metric("process_resident_memory_bytes", "gauge", "Resident memory of the server process.", [("", process.WorkingSet64)]);
        Metric("retort_managed_heap_bytes", "gauge", "Bytes on the managed heap.", [("", GC.GetTotalMemory(false))]);
        return sb.ToString();
    }
}
