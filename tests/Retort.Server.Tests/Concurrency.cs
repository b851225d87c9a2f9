using Retort.Tests.Support;

namespace Retort.Server.Tests;

/// <summary>Waiting for a server to have no busy slot and no queue (bounded in time).</summary>
internal static class Concurrency
{
    public static async Task WaitForIdleAsync(HttpClient http, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            long busy = await Http.MetricAsync(http, "retort_slots_busy");
            long queued = await Http.MetricAsync(http, "retort_queue_depth");
            if (busy == 0 && queued == 0) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"still {busy} busy slot(s) and {queued} queued after {seconds} s");
            await Task.Delay(50);
        }
    }
}
