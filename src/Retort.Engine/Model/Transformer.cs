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
    private readonly ForwardBuffers _buffers;
    private readonly AttentionJob _attention = new();
    private readonly SwiGluJob _swiGlu = new();

    /// <param name="threads">Worker threads for the matrix products; 0 uses every core, and a negative
    /// value selects the float32 reference path (dequantize each row, no quantized activations).</param>
    public Transformer(ModelConfig config, ITensorStore weights, int threads = 0)
        : this(config, weights, threads, InterleaveWeights)
    {
    }

    /// <param name="interleave">Re-lay Q4_0/Q8_0 weights out for the interleaved kernels (in the background).</param>
    internal Transformer(ModelConfig config, ITensorStore weights, int threads, bool interleave)
    {
        if (threads >= 0)
        {
            _pool = new WorkerPool(threads);
            _kernel = new MatMulKernel(_pool);
        }
        Config = config;
        // Every tensor is checked (present, shape, type) before anything is dequantized or allocated.
        var t = DecoderTensors.Check(config, weights);

        float[] Vector(string name) => Dequantize.Tensor(t[name]);

        float[]? OptionalVector(string name) => t.ContainsKey(name) ? Vector(name) : null;

        Linear Projection(int layer, string module) =>
            new(t[DecoderTensors.Weight(layer, module)], OptionalVector(DecoderTensors.Bias(layer, module)));

        _tokenEmbedding = t[DecoderTensors.TokenEmbedding];
        _layers = new TransformerLayer[config.LayerCount];
        for (int l = 0; l < config.LayerCount; l++)
        {
            _layers[l] = new TransformerLayer
            {
                AttentionNorm = Vector(DecoderTensors.Weight(l, DecoderTensors.AttentionNorm)),
                Query = Projection(l, DecoderTensors.Query),
                Key = Projection(l, DecoderTensors.Key),
                Value = Projection(l, DecoderTensors.Value),
                Output = Projection(l, DecoderTensors.AttentionOutput),
                FeedForwardNorm = Vector(DecoderTensors.Weight(l, DecoderTensors.FeedForwardNorm)),
                Gate = Projection(l, DecoderTensors.Gate),
                Up = Projection(l, DecoderTensors.Up),
                Down = Projection(l, DecoderTensors.Down),
            };
        }
        _outputNorm = Vector(DecoderTensors.OutputNorm);
        // A model without its own head ties it to the embedding (tie_word_embeddings).
        _outputHead = new Linear(t.TryGetValue(DecoderTensors.Output, out var head) ? head : _tokenEmbedding, null);
        _rope = new RotaryEmbedding(config);
        _buffers = new ForwardBuffers(config);
        if (_pool != null && interleave)
        {
            long bytes = Linears().Sum(l => l.Weight.ByteLength);
            if (bytes <= SynchronousInterleaveBytes)
            {
                // Milliseconds: done before the first forward, so every pass sees one layout.
                foreach (var linear in Linears()) linear.Interleave(_pool);
            }
            else
            {
                // Opening stays a memory map (well under a second); the interleaved copies are made
                // on a thread of their own, layer by layer in the order a forward pass needs them,
                // and each matmul switches over as soon as its copy is ready. Fresh pages are what
                // this costs (about a second per GB on this VM), not the shuffling.
                _interleaving = Task.Factory.StartNew(InterleaveAll, CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Models whose matrices are at most this large are re-laid out before the constructor returns.</summary>
    private const long SynchronousInterleaveBytes = 64L << 20;

    private readonly Task? _interleaving;
    private volatile bool _disposed;

    private void InterleaveAll()
    {
        foreach (var linear in Linears())
        {
            if (_disposed) return;
            linear.Interleave(null);
        }
    }

    /// <summary>
    /// Blocks until every weight that can be interleaved has been (benchmarks call this so they
    /// time the steady state); returns the time waited.
    /// </summary>
    public TimeSpan WaitForInterleaving()
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        _interleaving?.Wait();
        return System.Diagnostics.Stopwatch.GetElapsedTime(start);
    }

    /// <summary>RETORT_INTERLEAVE=0 keeps every weight in its file layout (for comparing kernels).</summary>
    /// <summary>The instruction-set bodies the kernels run on this CPU (e.g. "AvxVnni + 512-bit Q4_0/Q4_K tiles").</summary>
    public static string KernelDescription => $"{KernelPaths.Best}{(DotInterleaved.Q4_0Wide ? " + 512-bit Q4_0/Q4_K tiles" : "")}";

    private static bool InterleaveWeights => Environment.GetEnvironmentVariable("RETORT_INTERLEAVE") != "0";

    private IEnumerable<Linear> Linears()
    {
        foreach (var layer in _layers)
        {
            yield return layer.Query;
            yield return layer.Key;
            yield return layer.Value;
            yield return layer.Output;
            yield return layer.Gate;
            yield return layer.Up;
            yield return layer.Down;
        }
        yield return _outputHead;
    }

    public ModelConfig Config { get; }

    /// <summary>True when the output head shares the token embedding's weights.</summary>
    /// <summary>Receives the residual stream [rows, hidden] after a decoder layer (layer index, values valid during the call only).</summary>
    internal delegate void LayerOutputObserver(int layer, ReadOnlySpan<float> hidden);

    /// <summary>
    /// Called after every decoder layer of a forward pass with its output (Hugging Face's
    /// hidden_states[layer + 1]); training reads a teacher's hidden states through it for feature distillation.
    /// </summary>
    internal LayerOutputObserver? AfterLayer { get; set; }

    public bool TiedEmbeddings => ReferenceEquals(_outputHead.Weight, _tokenEmbedding);

    public KvCache CreateCache(int contextLength) => new(Config, contextLength, KeyCacheType, ValueCacheType);

    /// <summary>What <see cref="CreateCache"/> stores keys as (float32 unless set).</summary>
    public KvCacheType KeyCacheType { get; set; } = KvCacheType.F32;

    /// <summary>What <see cref="CreateCache"/> stores values as (float32 unless set).</summary>
    public KvCacheType ValueCacheType { get; set; } = KvCacheType.F32;

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions cache.Length, cache.Length+1, … and appends their
    /// keys and values to the cache. Returns the logits of every token (tokens.Length × vocab) when
    /// <paramref name="allLogits"/>, else only those of the last token.
    /// </summary>
    public float[] Forward(ReadOnlySpan<int> tokens, KvCache cache, bool allLogits = false) =>
        ForwardInPlace(tokens, cache, allLogits).ToArray();

    /// <summary>
    /// <see cref="Forward"/> into the model's own logits buffer: no allocation in steady state, and the
    /// result is valid only until the next call.
    /// </summary>
    internal Span<float> ForwardInPlace(ReadOnlySpan<int> tokens, KvCache cache, bool allLogits = false)
    {
        int n = tokens.Length;
        if (n == 0) throw new ArgumentException("no tokens to process", nameof(tokens));
        int start = cache.Length;
        if (start + n > cache.Capacity)
            throw new RetortException($"context is full: {start} + {n} tokens exceed the context size of {cache.Capacity}");
        var b = _buffers;
        b.Ensure(n, allLogits ? n : 1);
        for (int i = 0; i < n; i++)
        {
            b.RowCaches[i] = cache;
            b.RowPositions[i] = start + i;
        }
        return ForwardRows(tokens, allLogits ? 0 : n - 1);
    }

    /// <summary>
    /// One decode step of several independent sequences at once: token i goes to the sequence whose
    /// cache is caches[i], at position caches[i].Length. Every matrix product runs once over all the
    /// rows (the weights are read once for the whole batch); attention stays per sequence. Returns
    /// tokens.Length × vocab logits in the model's own buffer, valid until the next call; each cache
    /// grows by one position. Each row's logits equal those of <see cref="ForwardInPlace"/> for that
    /// sequence alone.
    /// </summary>
    internal Span<float> DecodeBatchInPlace(ReadOnlySpan<int> tokens, ReadOnlySpan<KvCache> caches)
    {
        int n = tokens.Length;
        if (n == 0) throw new ArgumentException("no tokens to process", nameof(tokens));
        if (caches.Length != n) throw new ArgumentException($"{n} tokens but {caches.Length} caches", nameof(caches));
        for (int i = 0; i < n; i++)
        {
            var cache = caches[i];
            if (cache.Length + 1 > cache.Capacity)
                throw new RetortException($"context is full: sequence {i} holds {cache.Length} tokens, the context size is {cache.Capacity}");
            // Two rows writing the same cache position would silently corrupt each other.
            for (int j = 0; j < i; j++)
                if (ReferenceEquals(caches[j], cache)) throw new ArgumentException($"sequences {j} and {i} share one cache", nameof(caches));
        }
        var b = _buffers;
        b.Ensure(n, n);
        for (int i = 0; i < n; i++)
        {
            b.RowCaches[i] = caches[i];
            b.RowPositions[i] = caches[i].Length;
        }
        return ForwardRows(tokens, 0);
    }

    /// <summary>
    /// The forward pass over rows that each carry their own cache and position
    /// (<see cref="ForwardBuffers.RowCaches"/>, <see cref="ForwardBuffers.RowPositions"/>): a prompt is
    /// rows of one cache at consecutive positions, a decode batch is one row per sequence. Each row's
    /// keys and values go to its cache at its position, and it attends to its cache up to that position.
    /// Returns the logits of rows firstLogitRow..n-1.
    /// </summary>
    private Span<float> ForwardRows(ReadOnlySpan<int> tokens, int firstLogitRow)
    {
        int n = tokens.Length;
        var c = Config;
        int hidden = c.HiddenSize, hd = c.HeadDim, qSize = c.HeadCount * hd, kvSize = c.KvHeadCount * hd;
        int rows = n - firstLogitRow;
        var b = _buffers;
        float[] x = b.X, xn = b.Normed, q = b.Q, k = b.K, v = b.V, attn = b.Attention, proj = b.Projection, gate = b.Gate, up = b.Up;
        KvCache[] caches = b.RowCaches;
        int[] positions = b.RowPositions;

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
            layer.Key.Forward(_kernel, xn, k, n, reuseInput: true);
            layer.Value.Forward(_kernel, xn, v, n, reuseInput: true);
            for (int i = 0; i < n; i++)
            {
                _rope.Apply(q.AsSpan(i * qSize, qSize), positions[i]);
                _rope.Apply(k.AsSpan(i * kvSize, kvSize), positions[i]);
                caches[i].Store(l, positions[i], k.AsSpan(i * kvSize, kvSize), v.AsSpan(i * kvSize, kvSize));
            }
            _attention.Prepare(q, attn, caches, positions, n, l, c, _pool?.ThreadCount ?? 1);
            if (_pool != null) _pool.Run(_attention, _attention.Count, 1);
            else _attention.Execute(0, _attention.Count);
            _attention.Merge();
            layer.Output.Forward(_kernel, attn, proj, n);
            VectorMath.Add(x.AsSpan(0, n * hidden), proj.AsSpan(0, n * hidden));

            for (int i = 0; i < n; i++)
                VectorMath.RmsNorm(x.AsSpan(i * hidden, hidden), layer.FeedForwardNorm, c.RmsNormEps, xn.AsSpan(i * hidden, hidden));
            layer.Gate.Forward(_kernel, xn, gate, n);
            layer.Up.Forward(_kernel, xn, up, n, reuseInput: true);
            SwiGlu(gate, up, n * c.FeedForwardSize);
            layer.Down.Forward(_kernel, gate, proj, n);
            VectorMath.Add(x.AsSpan(0, n * hidden), proj.AsSpan(0, n * hidden));
            AfterLayer?.Invoke(l, x.AsSpan(0, n * hidden));
        }
        for (int i = 0; i < n; i++)
        {
            caches[i].Length = Math.Max(caches[i].Length, positions[i] + 1);
            // Drop the references: the buffers must not keep a finished sequence's cache alive.
            caches[i] = null!;
        }

        for (int i = 0; i < rows; i++)
            VectorMath.RmsNorm(x.AsSpan((firstLogitRow + i) * hidden, hidden), _outputNorm, c.RmsNormEps, xn.AsSpan(i * hidden, hidden));
        _outputHead.Forward(_kernel, xn, b.Logits, rows);
        return b.Logits.AsSpan(0, rows * c.VocabSize);
    }

    public void Dispose()
    {
        _disposed = true;
        _interleaving?.Wait();
        _pool?.Dispose();
        // Forward is not running: the pool is gone, and every caller serializes on the model.
        foreach (var linear in Linears()) linear.Dispose();
    }

    /// <summary>gate = SiLU(gate)·up over the first length elements, spread over the pool for prompts.</summary>
    private void SwiGlu(float[] gate, float[] up, int length)
    {
        int chunks = (length + SwiGluJob.Chunk - 1) / SwiGluJob.Chunk;
        if (_pool == null || chunks < 2)
        {
            VectorMath.SwiGlu(gate.AsSpan(0, length), up.AsSpan(0, length));
            return;
        }
        _swiGlu.Set(gate, up, length);
        _pool.Run(_swiGlu, chunks, 1);
        _swiGlu.Set([], [], 0);
    }

    /// <summary>SwiGLU over chunks of a prompt's feed-forward activations.</summary>
    private sealed class SwiGluJob : IRangeJob
    {
        public const int Chunk = 8192;

        private float[] _gate = [], _up = [];
        private int _length;

        public void Set(float[] gate, float[] up, int length)
        {
            _gate = gate;
            _up = up;
            _length = length;
        }

        public void Execute(int begin, int end)
        {
            int from = begin * Chunk, to = Math.Min(_length, end * Chunk);
            VectorMath.SwiGlu(_gate.AsSpan(from, to - from), _up.AsSpan(from, to - from));
        }
    }
}
