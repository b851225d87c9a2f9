using Retort.Engine.Kernels;
using Retort.Engine.Model;

namespace Retort.Engine.Tests.Model;

/// <summary>
/// The whole attention step (tiles of prompt rows, GQA groups, key chunks split across threads and
/// merged) against two-pass attention over the cache's own rows, for every cache type: prompts,
/// a decode batch of sequences at different lengths, and a grouping wider than one tile.
/// </summary>
public sealed class AttentionJobTests
{
    private static ModelConfig Config(int heads, int kvHeads, int hd) => new()
    {
        Architecture = "qwen2", HiddenSize = heads * hd, LayerCount = 2, HeadCount = heads, KvHeadCount = kvHeads, HeadDim = hd,
        FeedForwardSize = 64, VocabSize = 16, ContextLength = 4096, RmsNormEps = 1e-6f, RopeTheta = 10000, RopeLayout = RopeLayout.NeoX,
    };

    private static KvCache FilledCache(ModelConfig c, KvCacheType type, int length, Random r)
    {
        var cache = new KvCache(c, Math.Max(length, 2048), type, type);
        int kv = c.KvHeadCount * c.HeadDim;
        for (int layer = 0; layer < c.LayerCount; layer++)
            for (int p = 0; p < length; p++)
                cache.Store(layer, p, Random(r, kv), Random(r, kv));
        cache.Length = length;
        return cache;
    }

    private static float[] Random(Random r, int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();

    public static TheoryData<KvCacheType, int, int, int> Cases()
    {
        var data = new TheoryData<KvCacheType, int, int, int>();
        foreach (var type in Enum.GetValues<KvCacheType>())
        {
            data.Add(type, 12, 2, 128); // R1-Distill-Qwen-1.5B's grouping
            data.Add(type, 4, 2, 64);   // the tiny fixture's
        }
        data.Add(KvCacheType.F32, 64, 1, 32); // a group wider than one tile of query lanes
        data.Add(KvCacheType.F16, 8, 8, 32);  // no grouping at all
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PromptRowsMatchTwoPassAttention(KvCacheType type, int heads, int kvHeads, int hd)
    {
        var c = Config(heads, kvHeads, hd);
        var r = new Random(heads * 7 + hd + (int)type);
        // 37 rows after 600 cached positions: tiles cross pages, and the diagonal tile is masked.
        var cache = FilledCache(c, type, 637, r);
        int n = 37;
        var caches = Enumerable.Repeat(cache, n).ToArray();
        var positions = Enumerable.Range(600, n).ToArray();
        foreach (int threads in new[] { 1, 2, 16 })
            AssertMatchesReference(c, caches, positions, layer: 1, threads, r);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecodeRowsOfSeveralSequencesMatchTwoPassAttention(KvCacheType type, int heads, int kvHeads, int hd)
    {
        var c = Config(heads, kvHeads, hd);
        var r = new Random(heads * 13 + hd + (int)type);
        // One row per sequence, at lengths from one tile to several pages: the long ones are split
        // into key chunks (more with more threads) and merged.
        int[] lengths = [1, 31, 33, 300, 1500];
        var caches = lengths.Select(len => FilledCache(c, type, len, r)).ToArray();
        var positions = lengths.Select(len => len - 1).ToArray();
        foreach (int threads in new[] { 1, 2, 16 })
            AssertMatchesReference(c, caches, positions, layer: 0, threads, r);
    }

    private static void AssertMatchesReference(ModelConfig c, KvCache[] caches, int[] positions, int layer, int threads, Random r)
    {
        int n = positions.Length, hd = c.HeadDim, qSize = c.HeadCount * hd;
        float[] q = Random(r, n * qSize), output = new float[n * qSize];
        var job = new AttentionJob();
        job.Prepare(q, output, caches, positions, n, layer, c, threads);
        job.Execute(0, job.Count);
        job.Merge();
        float[] keyRow = new float[hd], valueRow = new float[hd];
        for (int i = 0; i < n; i++)
        {
            for (int h = 0; h < c.HeadCount; h++)
            {
                int kvHead = h / (c.HeadCount / c.KvHeadCount);
                int visible = positions[i] + 1;
                double[] s = new double[visible];
                for (int p = 0; p < visible; p++)
                {
                    caches[i].ReadRow(layer, kvHead, p, values: false, keyRow);
                    for (int d = 0; d < hd; d++) s[p] += (double)q[i * qSize + h * hd + d] * keyRow[d];
                    s[p] /= Math.Sqrt(hd);
                }
                double max = s.Max(), sum = s.Sum(x => Math.Exp(x - max));
                double[] expected = new double[hd];
                for (int p = 0; p < visible; p++)
                {
                    caches[i].ReadRow(layer, kvHead, p, values: true, valueRow);
                    double w = Math.Exp(s[p] - max) / sum;
                    for (int d = 0; d < hd; d++) expected[d] += w * valueRow[d];
                }
                for (int d = 0; d < hd; d++)
                    Assert.True(Math.Abs(output[i * qSize + h * hd + d] - expected[d]) < 5e-5,
                        $"row {i} head {h} d {d} ({threads} threads, {job.Count} items): {output[i * qSize + h * hd + d]} vs {expected[d]}");
            }
        }
    }

    [Fact]
    public void ALongSingleSequenceIsSplitIntoChunksForTheThreads()
    {
        var c = Config(12, 2, 128);
        var cache = FilledCache(c, KvCacheType.F16, 4000, new Random(1));
        var job = new AttentionJob();
        float[] q = new float[c.HeadCount * c.HeadDim], output = new float[q.Length];
        job.Prepare(q, output, [cache], [3999], 1, 0, c, threads: 2);
        Assert.True(job.Count >= 8, $"{job.Count} items for 2 threads");
        job.Prepare(q, output, [cache], [3999], 1, 0, c, threads: 1);
        Assert.True(job.Count >= 4, $"{job.Count} items for 1 thread");
        Assert.True(FlashAttention.MaxQueries >= 12);
    }
}
