using Retort.Engine;
using Retort.Training.Data;
using Retort.Training.Model;

namespace Retort.Training.Loop;

/// <summary>
/// A teacher read from a <see cref="TeacherLogitsFile"/>. Each position's distribution is the stored
/// top-k probabilities plus the rest, r = 1 − Σ top-k, spread evenly over the other V − k tokens; it is
/// handed to the losses as logits log p (at T = 1), which the losses temper like any teacher's, so
/// with k = V it is the online teacher exactly (up to float32 rounding of the stored values).
/// </summary>
public sealed class PrecomputedTeacher : ITeacher
{
    /// <summary>The logit of a token that has no mass at all: far enough below the rest to vanish at any temperature.</summary>
    private const float NoMass = -1e4f;

    private readonly string _path;
    private readonly IReadOnlyList<TrainingExample> _examples;
    private readonly int _k;
    private readonly long[] _offsets;
    private readonly int[] _ids;
    private readonly float[] _logp;

    internal PrecomputedTeacher(string path, IReadOnlyList<TrainingExample> examples, int vocabulary, int k, long[] offsets, int[] ids, float[] logp)
    {
        _path = path;
        _examples = examples;
        Vocabulary = vocabulary;
        _k = k;
        _offsets = offsets;
        _ids = ids;
        _logp = logp;
    }

    public int Vocabulary { get; }

    public int TopK => _k;

    public float[] Logits(TrainingBatch batch, int vocabulary)
    {
        if (vocabulary != Vocabulary)
            throw new RetortException($"{_path}: stored for a vocabulary of {Vocabulary} tokens, the student's loss vocabulary is {vocabulary}");
        var examples = batch.Examples ?? throw new RetortException($"{_path}: precomputed teacher logits need batches built from the data set they were made for");
        var result = new float[batch.TokenCount * vocabulary];
        for (int i = 0; i < batch.TokenCount; i++)
        {
            int e = examples[i];
            if (e < 0) continue;
            int position = batch.Positions[i];
            var example = (uint)e < (uint)_examples.Count ? _examples[e] : null;
            if (example == null || position >= example.Length || example.Tokens[position] != batch.Tokens[i])
                throw new RetortException($"{_path}: the batch's token at example {e}, position {position} is not in the file's data (precomputed logits cover the training data only)");
            Row(_offsets[e] + position, result.AsSpan(i * vocabulary, vocabulary));
        }
        return result;
    }

    private void Row(long record, Span<float> row)
    {
        long first = record * _k;
        double kept = 0;
        for (int j = 0; j < _k; j++) kept += Math.Exp(_logp[first + j]);
        double rest = 1 - kept;
        int others = row.Length - _k;
        row.Fill(others > 0 && rest > 0 ? (float)Math.Log(rest / others) : NoMass);
        for (int j = 0; j < _k; j++) row[_ids[first + j]] = _logp[first + j];
    }
}
