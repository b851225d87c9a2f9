using Retort.Engine.Kernels;
using Retort.Engine.Quantization;
using Retort.Engine.Tensors;

namespace Retort.Engine.Model;

/// <summary>
/// The Llama-family decoder (Llama, Qwen2): token embedding, then per layer
/// x += Wo·Attention(RoPE(Wq·n(x)+bq), RoPE(Wk·n(x)+bk), Wv·n(x)+bv) and
/// x += Wdown·(silu(Wgate·n(x)) ⊙ Wup·n(x)), then the final norm and the output head.
/// Attention is causal and grouped (each KV head serves HeadCount/KvHeadCount query heads).
/// All arithmetic is float32.
/// </summary>
public sealed class Transformer : IDisposable
{
    private readonly TensorData _tokenEmbedding;
    private readonly TransformerLayer[] _layers;
    private readonly float[] _outputNorm;
    private readonly Linear _outputHead;
    private readonly RotaryEmbedding _rope;
    private readonly WorkerPool? _pool;
    private readonly MatMulKernel? _kernel;

    /// <param name="threads">Worker threads for the matrix products; 0 uses every core, and a negative
    /// value selects the float32 reference path (dequantize each row, no quantized activations).</param>
    public Transformer(ModelConfig config, ITensorStore weights, int threads = 0)
    {
        if (threads >= 0)
        {
            _pool = new WorkerPool(threads);
            _kernel = new MatMulKernel(_pool);
        }
        Config = config;
        var t = weights.Tensors;

        TensorData Tensor(string name, params long[] shape)
        {
            if (!t.TryGetValue(name, out var tensor))
                throw new RetortException($"model weights are missing tensor '{name}'");
            if (!GgmlTypeInfo.IsSupported(tensor.Type))
                throw new RetortException($"tensor '{name}' has type {tensor.Type}, which Retort cannot compute with " +
                                          "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
            if (!tensor.Shape.SequenceEqual(shape))
                throw new RetortException(
                    $"tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", shape)}]");
            return tensor;
        }

        float[] Vector(string name, long length) => ToFloats(Tensor(name, length));

        float[]? OptionalVector(string name, long length) => t.ContainsKey(name) ? Vector(name, length) : null;

        int hidden = config.HiddenSize;
        int qSize = config.HeadCount * config.HeadDim;
        int kvSize = config.KvHeadCount * config.HeadDim;
        int ff = config.FeedForwardSize;

        _tokenEmbedding = Tensor("token_embd.weight", hidden, config.VocabSize);
        _layers = new TransformerLayer[config.LayerCount];
        for (int l = 0; l < config.LayerCount; l++)
        {
            string p = $"blk.{l}.";
            _layers[l] = new TransformerLayer
            {
                AttentionNorm = Vector(p + "attn_norm.weight", hidden),
                Query = new Linear(Tensor(p + "attn_q.weight", hidden, qSize), OptionalVector(p + "attn_q.bias", qSize)),
                Key = new Linear(Tensor(p + "attn_k.weight", hidden, kvSize), OptionalVector(p + "attn_k.bias", kvSize)),
                Value = new Linear(Tensor(p + "attn_v.weight", hidden, kvSize), OptionalVector(p + "attn_v.bias", kvSize)),
                Output = new Linear(Tensor(p + "attn_output.weight", qSize, hidden), OptionalVector(p + "attn_output.bias", hidden)),
                FeedForwardNorm = Vector(p + "ffn_norm.weight", hidden),
                Gate = new Linear(Tensor(p + "ffn_gate.weight", hidden, ff), null),
                Up = new Linear(Tensor(p + "ffn_up.weight", hidden, ff), null),
                Down = new Linear(Tensor(p + "ffn_down.weight", ff, hidden), null),
            };
        }
        _outputNorm = Vector("output_norm.weight", hidden);
        // A model without its own head ties it to the embedding (tie_word_embeddings).
        _outputHead = new Linear(
            t.ContainsKey("output.weight") ? Tensor("output.weight", hidden, config.VocabSize) : _tokenEmbedding, null);
        _rope = new RotaryEmbedding(config);
    }

    public ModelConfig Config { get; }

    /// <summary>True when the output head shares the token embedding's weights.</summary>
    public bool TiedEmbeddings => ReferenceEquals(_outputHead.Weight, _tokenEmbedding);

    public KvCache CreateCache(int contextLength) => new(Config, contextLength);

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions cache.Length, cache.Length+1, … and appends their
    /// keys and values to the cache. Returns the logits of every token (tokens.Length × vocab) when
    /// <paramref name="allLogits"/>, else only those of the last token.
    /// </summary>
    public float[] Forward(ReadOnlySpan<int> tokens, KvCache cache, bool allLogits = false)
    {
        int n = tokens.Length;
        if (n == 0) throw new ArgumentException("no tokens to process", nameof(tokens));
        int start = cache.Length;
        if (start + n > cache.Capacity)
            throw new RetortException($"context is full: {start} + {n} tokens exceed the context size of {cache.Capacity}");

        var c = Config;
        int hidden = c.HiddenSize, hd = c.HeadDim, qSize = c.HeadCount * hd, kvSize = c.KvHeadCount * hd;
        var x = new float[n * hidden];
        var xn = new float[n * hidden];
        var q = new float[n * qSize];
        var k = new float[n * kvSize];
        var v = new float[n * kvSize];
        var attn = new float[n * qSize];
        var proj = new float[n * hidden];
        var gate = new float[n * c.FeedForwardSize];
        var up = new float[n * c.FeedForwardSize];

        for (int i = 0; i < n; i++)
        {
            int id = tokens[i];
            if ((uint)id >= (uint)c.VocabSize)
                throw new RetortException($"token id {id} is outside the vocabulary (size {c.VocabSize})");
            Dequantize.Row(_tokenEmbedding.Type, _tokenEmbedding.RowBytes(id), x.AsSpan(i * hidden, hidden));
        }

        for (int l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            for (int i = 0; i < n; i++)
                VectorMath.RmsNorm(x.AsSpan(i * hidden, hidden), layer.AttentionNorm, c.RmsNormEps, xn.AsSpan(i * hidden, hidden));
            layer.Query.Forward(_kernel, xn, q, n);
            layer.Key.Forward(_kernel, xn, k, n);
            layer.Value.Forward(_kernel, xn, v, n);
            for (int i = 0; i < n; i++)
            {
                _rope.Apply(q.AsSpan(i * qSize, qSize), start + i);
                _rope.Apply(k.AsSpan(i * kvSize, kvSize), start + i);
                k.AsSpan(i * kvSize, kvSize).CopyTo(cache.Keys(l, start + i));
                v.AsSpan(i * kvSize, kvSize).CopyTo(cache.Values(l, start + i));
            }
            Attention(l, q, attn, n, start, cache);
            layer.Output.Forward(_kernel, attn, proj, n);
            VectorMath.Add(x, proj);

            for (int i = 0; i < n; i++)
                VectorMath.RmsNorm(x.AsSpan(i * hidden, hidden), layer.FeedForwardNorm, c.RmsNormEps, xn.AsSpan(i * hidden, hidden));
            layer.Gate.Forward(_kernel, xn, gate, n);
            layer.Up.Forward(_kernel, xn, up, n);
            VectorMath.SwiGlu(gate, up);
            layer.Down.Forward(_kernel, gate, proj, n);
            VectorMath.Add(x, proj);
        }
        cache.Length = start + n;

        int first = allLogits ? 0 : n - 1;
        int rows = n - first;
        var normed = new float[rows * hidden];
        for (int i = 0; i < rows; i++)
            VectorMath.RmsNorm(x.AsSpan((first + i) * hidden, hidden), _outputNorm, c.RmsNormEps, normed.AsSpan(i * hidden, hidden));
        var logits = new float[rows * c.VocabSize];
        _outputHead.Forward(_kernel, normed, logits, rows);
        return logits;
    }

    /// <summary>Causal grouped-query attention of the n new queries over the cached positions.</summary>
    private void Attention(int layer, float[] q, float[] output, int n, int start, KvCache cache)
    {
        var c = Config;
        int hd = c.HeadDim, heads = c.HeadCount, group = c.HeadCount / c.KvHeadCount;
        int qSize = heads * hd, kvRow = cache.RowSize;
        float scale = 1f / MathF.Sqrt(hd);
        float[] keys = cache.LayerKeys(layer), values = cache.LayerValues(layer);

        void One(int job)
        {
            int i = job / heads, h = job % heads;
            int kvOffset = h / group * hd;
            int positions = start + i + 1;
            var scores = new float[positions];
            ReadOnlySpan<float> query = q.AsSpan(i * qSize + h * hd, hd);
            for (int p = 0; p < positions; p++)
                scores[p] = VectorMath.Dot(query, keys.AsSpan(p * kvRow + kvOffset, hd)) * scale;
            VectorMath.Softmax(scores);
            Span<float> o = output.AsSpan(i * qSize + h * hd, hd);
            o.Clear();
            for (int p = 0; p < positions; p++)
                VectorMath.AddScaled(o, values.AsSpan(p * kvRow + kvOffset, hd), scores[p]);
        }

        int jobs = n * heads;
        if ((long)jobs * (start + n) * hd < 1 << 16)
            for (int j = 0; j < jobs; j++) One(j);
        else
            // Bounded by the pool's size so that --threads limits attention too, not only the matrix products.
            Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = _pool?.ThreadCount ?? -1 }, One);
    }

    public void Dispose() => _pool?.Dispose();

    private static float[] ToFloats(TensorData tensor)
    {
        var result = new float[tensor.ElementCount];
        long rowLength = tensor.RowLength;
        for (long r = 0; r < tensor.RowCount; r++)
            Dequantize.Row(tensor.Type, tensor.RowBytes(r), result.AsSpan((int)(r * rowLength), (int)rowLength));
        return result;
    }
}
