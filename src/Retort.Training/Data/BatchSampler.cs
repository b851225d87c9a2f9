using Retort.Training.Losses;
using Retort.Training.Model;

namespace Retort.Training.Data;

/// <summary>
/// Turns examples into batches, epoch after epoch, in an order fixed by the seed (a new shuffle
/// each epoch), so that (epoch, cursor) is all a checkpoint needs to continue exactly. With
/// packing, rows are filled with whole documents up to the sequence length (attention and
/// positions restart at each document); without it, each row holds one document, padded to the
/// longest in the batch. Documents longer than the sequence length are cut to it.
/// </summary>
public sealed class BatchSampler
{
    private readonly IReadOnlyList<TrainingExample> _examples;
    private readonly int _rows, _length, _seed;
    private readonly bool _pack, _shuffle;
    private int[] _order = [];

    public BatchSampler(IReadOnlyList<TrainingExample> examples, int rows, int sequenceLength, bool pack, int seed, bool shuffle = true)
    {
        if (examples.Count == 0) throw new ArgumentException("no examples", nameof(examples));
        if (rows <= 0 || sequenceLength < 2) throw new ArgumentException("batch rows must be positive and the sequence length at least 2");
        _examples = examples;
        _rows = rows;
        _length = sequenceLength;
        _pack = pack;
        _seed = seed;
        _shuffle = shuffle;
        Seek(0, 0);
    }

    public int Epoch { get; private set; }

    /// <summary>The next example's index within this epoch's order.</summary>
    public int Cursor { get; private set; }

    public void Seek(int epoch, int cursor)
    {
        if (epoch < 0 || cursor < 0 || cursor > _examples.Count) throw new ArgumentOutOfRangeException(nameof(cursor));
        Epoch = epoch;
        Cursor = cursor;
        _order = Enumerable.Range(0, _examples.Count).ToArray();
        if (_shuffle) new Random(unchecked(_seed * 1000003 + epoch)).Shuffle(_order);
    }

    /// <summary>The batches one pass over the data makes (for turning epochs into steps).</summary>
    public int BatchesPerEpoch()
    {
        var probe = new BatchSampler(_examples, _rows, _length, _pack, _seed, _shuffle);
        int count = 0;
        while (probe.Epoch == 0) { probe.Next(); count++; }
        return count;
    }

    /// <summary>Every example once, in order, as batches (evaluation).</summary>
    public IEnumerable<TrainingBatch> OnePass()
    {
        var pass = new BatchSampler(_examples, _rows, _length, _pack, _seed, shuffle: false);
        do yield return pass.Next();
        while (pass.Epoch == 0);
    }

    public TrainingBatch Next()
    {
        var rows = new List<List<int>>();
        while (rows.Count < _rows)
        {
            var row = new List<int>();
            int used = 0;
            while (true)
            {
                int next = _order[Cursor];
                int size = Math.Min(_examples[next].Length, _length);
                if (row.Count > 0 && (!_pack || used + size > _length)) break;
                row.Add(next);
                used += size;
                Advance();
                if (Cursor == 0) break; // a row does not span epochs
            }
            rows.Add(row);
            if (Cursor == 0) break;
        }
        return Build(rows);
    }

    private void Advance()
    {
        if (++Cursor < _examples.Count) return;
        Seek(Epoch + 1, 0);
    }

    private TrainingBatch Build(List<List<int>> rows)
    {
        int length = _pack ? _length : rows.Max(r => Math.Min(_examples[r[0]].Length, _length));
        int n = rows.Count * length;
        var tokens = new int[n];
        var targets = new int[n];
        var positions = new int[n];
        var documents = new int[n];
        var examples = new int[n];
        Array.Fill(targets, TokenLosses.IgnoreIndex);
        Array.Fill(documents, -1);
        Array.Fill(examples, -1);
        for (int r = 0; r < rows.Count; r++)
        {
            int column = 0;
            for (int d = 0; d < rows[r].Count; d++)
            {
                var doc = _examples[rows[r][d]];
                int size = Math.Min(doc.Length, length - column);
                for (int t = 0; t < size; t++)
                {
                    int i = r * length + column + t;
                    tokens[i] = doc.Tokens[t];
                    positions[i] = t;
                    documents[i] = d;
                    examples[i] = rows[r][d];
                    if (t + 1 < size && doc.Trained[t + 1]) targets[i] = doc.Tokens[t + 1];
                }
                column += size;
            }
        }
        return new TrainingBatch(rows.Count, length, tokens, targets, positions, documents) { Examples = examples };
    }
}
