using System.Diagnostics;
using Retort.Engine.Model;

namespace Retort.Cli.Commands;

/// <summary>
/// Runs <see cref="BenchTest"/>s on a transformer the way llama-bench does: for each (KV types, depth)
/// one cache of depth + the longest test's tokens is filled with random tokens (not timed), then each
/// test gets one warm-up and the measured repetitions, every run starting from the cache cut back to
/// the depth, so it attends over exactly that many tokens already there.
/// </summary>
internal sealed class BenchRunner(Transformer transformer, int repetitions, Random random, TextWriter progress)
{
    /// <summary>Tokens per forward pass while filling the depth (a long prompt's batches).</summary>
    internal const int FillBatch = 512;

    /// <summary>Fills that take longer than this report progress (on stderr).</summary>
    private static readonly TimeSpan QuietFill = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

    private readonly int _vocab = transformer.Config.VocabSize;

    /// <summary>For tests: called after every run (the warm-up too) with the cache length before and after it.</summary>
    internal Action<BenchTest, int, int>? AfterRun { get; init; }

    /// <summary>Results in the order of <paramref name="tests"/>.</summary>
    public IReadOnlyList<BenchResult> Run(IReadOnlyList<BenchTest> tests)
    {
        var results = new List<BenchResult>(tests.Count);
        // Consecutive tests with the same types and depth share one filled cache.
        for (int start = 0; start < tests.Count;)
        {
            int end = start + 1;
            while (end < tests.Count && SharesCache(tests[end], tests[start])) end++;
            RunGroup(tests.Skip(start).Take(end - start).ToArray(), results);
            // The next group's cache should not stack on this one's pages in the reported peak memory.
            GC.Collect();
            start = end;
        }
        return results;
    }

    private static bool SharesCache(BenchTest a, BenchTest b) => a.Depth == b.Depth && a.Key == b.Key && a.Value == b.Value;

    /// <summary>Tests of one (KV types, depth): one cache, filled once.</summary>
    private void RunGroup(BenchTest[] group, List<BenchResult> results)
    {
        var first = group[0];
        CacheTypeOption.Apply(transformer, (first.Key, first.Value));
        var cache = transformer.CreateCache(first.Depth + group.Max(g => g.Tokens));
        Fill(cache, first);
        int depth = cache.Length;
        foreach (var test in group)
        {
            Measure(test, cache, depth); // the warm-up
            var samples = new double[repetitions];
            for (int r = 0; r < repetitions; r++) samples[r] = Measure(test, cache, depth);
            results.Add(new BenchResult(test, MeanSd.Of(samples)));
        }
    }

    private int[] RandomIds(int count)
    {
        var ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = random.Next(_vocab);
        return ids;
    }

    private void Fill(KvCache cache, BenchTest test)
    {
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        bool reported = false;
        string what = $"filling the KV cache to depth {test.Depth} ({KvCacheFormat.Name(test.Key)} keys, {KvCacheFormat.Name(test.Value)} values)";
        while (cache.Length < test.Depth)
        {
            int[] ids = RandomIds(Math.Min(FillBatch, test.Depth - cache.Length));
            transformer.Forward(ids, cache);
            if (clock.Elapsed > QuietFill && clock.Elapsed - lastReport >= ProgressInterval && cache.Length < test.Depth)
            {
                progress.WriteLine($"{what}: {cache.Length}/{test.Depth} tokens, {clock.Elapsed.TotalSeconds:F0} s");
                lastReport = clock.Elapsed;
                reported = true;
            }
        }
        if (reported) progress.WriteLine($"{what}: done in {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>One run of <paramref name="test"/> on top of the first <paramref name="depth"/> positions; tokens per second.</summary>
    private double Measure(BenchTest test, KvCache cache, int depth)
    {
        cache.Truncate(depth);
        int[] ids = RandomIds(test.Tokens);
        var clock = Stopwatch.StartNew();
        if (test.Kind == BenchTest.PromptKind)
            transformer.Forward(ids, cache);
        else
            for (int i = 0; i < ids.Length; i++) transformer.Forward(ids.AsSpan(i, 1), cache);
        double seconds = clock.Elapsed.TotalSeconds;
        AfterRun?.Invoke(test, depth, cache.Length);
        return ids.Length / seconds;
    }
}
