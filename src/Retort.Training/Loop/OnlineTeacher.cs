using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Training.Model;

namespace Retort.Training.Loop;

/// <summary>
/// A teacher run by the inference engine in the same process (any size, any supported file
/// type). Its tokenizer must be the student's, token for token; otherwise logits would be compared
/// across different meanings and distillation is refused with the first difference named.
/// </summary>
public sealed class OnlineTeacher : ITeacher
{
    private readonly LoadedModel _model;

    public OnlineTeacher(LoadedModel teacher, Retort.Engine.Tokenization.Tokenizer studentTokenizer)
    {
        _model = teacher;
        var t = teacher.Tokenizer;
        if (t.VocabSize != studentTokenizer.VocabSize)
            throw new RetortException($"teacher '{teacher.Path}' has a vocabulary of {t.VocabSize} tokens, the student {studentTokenizer.VocabSize}: distillation needs the same tokenizer");
        for (int id = 0; id < t.VocabSize; id++)
            if (t.TokenText(id) != studentTokenizer.TokenText(id))
                throw new RetortException($"teacher '{teacher.Path}' and the student's tokenizer differ at token {id} ('{t.TokenText(id)}' vs '{studentTokenizer.TokenText(id)}'): distillation needs the same vocabulary");
    }

    public int Vocabulary => _model.Config.VocabSize;

    /// <summary>The teacher's hidden size (feature distillation projects the student's states to it).</summary>
    public int HiddenSize => _model.Config.HiddenSize;

    public int LayerCount => _model.Config.LayerCount;

    public float[] Logits(TrainingBatch batch, int vocabulary) => Run(batch, vocabulary, []).Logits;

    /// <summary>
    /// Logits as <see cref="Logits"/>, and for each of <paramref name="layers"/> the teacher's output of
    /// that decoder layer [tokens, HiddenSize] (zeros for padding), in one pass.
    /// </summary>
    internal (float[] Logits, float[][] Hidden) Run(TrainingBatch batch, int vocabulary, IReadOnlyList<int> layers)
    {
        if (vocabulary > Vocabulary) throw new RetortException($"the teacher's head has {Vocabulary} tokens, fewer than the {vocabulary} the loss needs");
        foreach (int l in layers)
            if ((uint)l >= (uint)LayerCount) throw new RetortException($"teacher layer {l} does not exist (teacher '{_model.Path}' has {LayerCount} layers)");
        var result = new float[batch.TokenCount * vocabulary];
        int hiddenSize = HiddenSize;
        var hidden = layers.Select(_ => new float[batch.TokenCount * hiddenSize]).ToArray();
        int full = _model.Config.VocabSize;
        for (int r = 0; r < batch.Rows; r++)
        {
            int t = 0;
            while (t < batch.Length)
            {
                int start = r * batch.Length + t;
                if (batch.Documents[start] < 0) { t++; continue; }
                int end = t;
                while (end < batch.Length && batch.Documents[r * batch.Length + end] == batch.Documents[start]) end++;
                var tokens = batch.Tokens.AsSpan(start, end - t);
                var cache = _model.Transformer.CreateCache(tokens.Length);
                float[] logits;
                _model.ForwardLock.Enter();
                try
                {
                    _model.Transformer.AfterLayer = layers.Count == 0 ? null : (layer, states) =>
                    {
                        for (int i = 0; i < layers.Count; i++)
                            if (layers[i] == layer) states.CopyTo(hidden[i].AsSpan(start * hiddenSize));
                    };
                    logits = _model.Transformer.Forward(tokens, cache, allLogits: true);
                }
                finally
                {
                    _model.Transformer.AfterLayer = null;
                    _model.ForwardLock.Exit();
                }
                for (int i = 0; i < tokens.Length; i++)
                    Array.Copy(logits, i * full, result, (start + i) * vocabulary, vocabulary);
                t = end;
            }
        }
        return (result, hidden);
    }
}
