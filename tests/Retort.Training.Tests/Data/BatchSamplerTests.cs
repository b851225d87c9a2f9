using Retort.Training.Data;
using Retort.Training.Losses;

namespace Retort.Training.Tests.Data;

public class BatchSamplerTests
{
    private static TrainingExample Doc(int first, int length, int prompt) =>
        new(Enumerable.Range(first, length).ToArray(), Enumerable.Range(0, length).Select(i => i >= prompt).ToArray());

    [Fact]
    public void PacksWholeDocumentsWithRestartingPositionsAndMaskedTargets()
    {
        var docs = new[] { Doc(100, 4, 2), Doc(200, 3, 1), Doc(300, 6, 0) };
        var sampler = new BatchSampler(docs, rows: 2, sequenceLength: 8, pack: true, seed: 1, shuffle: false);
        var batch = sampler.Next();
        Assert.Equal(2, batch.Rows);
        Assert.Equal(8, batch.Length);
        // Row 0: doc A (4) + doc B (3) + one pad; row 1: doc C (6) + two pads.
        Assert.Equal([100, 101, 102, 103, 200, 201, 202, 0], batch.Tokens[..8]);
        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 0], batch.Positions[..8]);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, -1], batch.Documents[..8]);
        int ig = TokenLosses.IgnoreIndex;
        // Token t predicts t+1 only inside its document and only where t+1 is a completion token.
        Assert.Equal([ig, 102, 103, ig, 201, 202, ig, ig], batch.Targets[..8]);
        Assert.Equal([300, 301, 302, 303, 304, 305, 0, 0], batch.Tokens[8..]);
        Assert.Equal(1, sampler.Epoch);
    }

    [Fact]
    public void WithoutPackingEachRowHoldsOneDocumentPaddedToTheLongest()
    {
        var docs = new[] { Doc(100, 4, 0), Doc(200, 3, 0) };
        var batch = new BatchSampler(docs, rows: 2, sequenceLength: 16, pack: false, seed: 1, shuffle: false).Next();
        Assert.Equal(4, batch.Length);
        Assert.Equal([200, 201, 202, 0], batch.Tokens[4..]);
        Assert.Equal([0, 0, 0, -1], batch.Documents[4..]);
    }

    [Fact]
    public void ShuffleDependsOnSeedAndEpochAndSeekRepeatsIt()
    {
        var docs = Enumerable.Range(0, 20).Select(i => Doc(i * 10, 3, 0)).ToArray();
        var a = new BatchSampler(docs, 1, 3, pack: true, seed: 9);
        var first = Enumerable.Range(0, 25).Select(_ => a.Next().Tokens[0]).ToArray();
        var b = new BatchSampler(docs, 1, 3, pack: true, seed: 9);
        b.Seek(1, 2);
        Assert.Equal(first[22..], Enumerable.Range(0, 3).Select(_ => b.Next().Tokens[0]));
        Assert.NotEqual(first[..20], first[..20].Order());
        Assert.NotEqual(first[..5], first[20..25]);
    }
}
