using Retort.Engine;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.Kernels;
using Retort.Engine.Model;
using Retort.Engine.Quantization;
using Retort.Engine.Tensors;
using Retort.Training.Lora;

namespace Retort.Training.Model;

/// <summary>
/// A Llama-family decoder (Qwen2, Llama) that trains: float32 master weights named as in Hugging
/// Face, a forward pass that keeps the activations its hand-written backward pass needs, and
/// gradients accumulated into each <see cref="Parameter"/>. The matrix products and the per-token
/// passes run on a worker pool.
/// </summary>
public sealed class StudentModel : IDisposable
{
    private readonly WorkerPool? _pool;
    private readonly StudentContext _ctx;
    private readonly DecoderLayer[] _layers;
    private readonly Parameter _embedding;
    private readonly Parameter _finalNorm;
    private readonly Parameter _head;
    private readonly float[] _inverseFrequencies;
    private readonly List<Parameter> _baseParameters;
    private readonly List<Parameter> _loraParameters = [];
    private TrainingBatch? _batch;
    private float[] _x = [], _finalInput = [], _finalRstd = [], _finalNormed = [], _logits = [], _dx = [];
    private int _outputVocabulary;
    private int[] _capturedLayers = [];
    private float[][] _hidden = [];

    private StudentModel(ModelConfig config, Func<string, int[], float[]?> source, bool tied, bool attentionBias, int threads)
    {
        Config = config;
        TiedEmbeddings = tied;
        _pool = threads >= 0 ? new WorkerPool(threads) : null;
        _ctx = new StudentContext(_pool, new CausalAttention(config.HeadCount, config.KvHeadCount, config.HeadDim));
        _inverseFrequencies = RotaryEmbedding.InverseFrequenciesOf(config);
        _outputVocabulary = config.VocabSize;
        _baseParameters = [];

        Parameter Take(string name, params int[] shape)
        {
            var value = source(name, shape) ?? throw new RetortException($"model weights are missing tensor '{name}'");
            var p = new Parameter(name, shape, value, trainable: true);
            _baseParameters.Add(p);
            return p;
        }

        Parameter? Optional(string name, params int[] shape) => source(name, shape) is { } v ? Keep(new Parameter(name, shape, v, true)) : null;

        Parameter Keep(Parameter p)
        {
            _baseParameters.Add(p);
            return p;
        }

        int hidden = config.HiddenSize, qSize = config.HeadCount * config.HeadDim, kvSize = config.KvHeadCount * config.HeadDim;
        int ff = config.FeedForwardSize;
        _embedding = Take("model.embed_tokens.weight", config.VocabSize, hidden);
        _layers = new DecoderLayer[config.LayerCount];
        for (int l = 0; l < config.LayerCount; l++)
        {
            string p = $"model.layers.{l}.";
            LinearLayer Projection(string name, int outSize, int inSize, bool bias) => new(
                Take(p + name + ".weight", outSize, inSize),
                bias ? Take(p + name + ".bias", outSize) : Optional(p + name + ".bias", outSize));
            _layers[l] = new DecoderLayer(config,
                Take(p + "input_layernorm.weight", hidden),
                Projection("self_attn.q_proj", qSize, hidden, attentionBias),
                Projection("self_attn.k_proj", kvSize, hidden, attentionBias),
                Projection("self_attn.v_proj", kvSize, hidden, attentionBias),
                Projection("self_attn.o_proj", hidden, qSize, false),
                Take(p + "post_attention_layernorm.weight", hidden),
                Projection("mlp.gate_proj", ff, hidden, false),
                Projection("mlp.up_proj", ff, hidden, false),
                Projection("mlp.down_proj", hidden, ff, false));
        }
        _finalNorm = Take("model.norm.weight", hidden);
        _head = tied ? _embedding : Take("lm_head.weight", config.VocabSize, hidden);
    }

    public ModelConfig Config { get; }

    /// <summary>True when the output head is the token embedding (tie_word_embeddings).</summary>
    public bool TiedEmbeddings { get; }

    public int ThreadCount => _pool?.ThreadCount ?? 1;

    /// <summary>Every parameter of the model and its adapters, in a fixed order.</summary>
    public IReadOnlyList<Parameter> Parameters => [.. _baseParameters, .. _loraParameters];

    /// <summary>The parameters that train (all of them, or only the adapters with LoRA).</summary>
    public IReadOnlyList<Parameter> TrainableParameters => Parameters.Where(p => p.Trainable).ToList();

    /// <summary>The base model's parameters (no adapters).</summary>
    public IReadOnlyList<Parameter> BaseParameters => _baseParameters;

    /// <summary>The LoRA adapter parameters (PEFT names without the base_model.model prefix), if attached.</summary>
    public IReadOnlyList<Parameter> LoraParameters => _loraParameters;

    public LoraOptions? Lora { get; private set; }

    /// <summary>
    /// The number of output-head rows computed, from 0: the loss sees logits over the first
    /// OutputVocabulary tokens only (a tokenizer whose vocabulary is smaller than the padded head),
    /// and the remaining rows get no gradient.
    /// </summary>
    public int OutputVocabulary
    {
        get => _outputVocabulary;
        set
        {
            if (value <= 0 || value > Config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(value), $"output vocabulary must lie in [1, {Config.VocabSize}]");
            _outputVocabulary = value;
        }
    }

    /// <summary>
    /// Decoder layers whose output (the residual stream after layer l, Hugging Face's
    /// hidden_states[l + 1]) each <see cref="Forward"/> keeps for feature distillation.
    /// </summary>
    internal IReadOnlyList<int> CapturedLayers
    {
        get => _capturedLayers;
        set
        {
            foreach (int l in value)
                if ((uint)l >= (uint)_layers.Length) throw new RetortException($"student layer {l} does not exist (the student has {_layers.Length} layers)");
            _capturedLayers = [.. value];
            _hidden = [.. _capturedLayers.Select(_ => Array.Empty<float>())];
        }
    }

    /// <summary>The kept output [tokens, hidden] of <see cref="CapturedLayers"/>[index] from the last forward pass.</summary>
    internal float[] CapturedHidden(int index) => _hidden[index];

    /// <summary>The model's matrix product (feature projections run on it).</summary>
    internal Kernels.MatMul MatMul => _ctx.MatMul;

    /// <summary>Loads a Hugging Face folder (f32, f16 or bf16 safetensors); weights become float32.</summary>
    public static StudentModel Load(string hfFolder, int threads = 0, bool ropeRoundedToBf16 = false)
    {
        using var folder = HfModelFolder.Open(hfFolder);
        var config = ModelConfig.FromHfConfig(folder.Config, Path.Combine(folder.Directory, "config.json"));
        if (ropeRoundedToBf16) config = config with { RopeFrequenciesRoundedToBf16 = true };
        return FromStore(config, folder, threads);
    }

    /// <summary>A student from weights under GGUF names (an HF folder or a GGUF file); any stored type is dequantized.</summary>
    internal static StudentModel FromStore(ModelConfig config, ITensorStore store, int threads)
    {
        var tensors = store.Tensors;
        bool tied = !tensors.ContainsKey("output.weight");
        return new StudentModel(config, (name, shape) =>
        {
            string gguf = HfTensorNames.ToGguf(name);
            if (!tensors.TryGetValue(gguf, out var tensor)) return null;
            long expected = shape.Aggregate(1L, (a, b) => a * b);
            if (tensor.ElementCount != expected || tensor.RowLength != shape[^1])
                throw new RetortException($"tensor '{name}' has shape [{string.Join(", ", tensor.Shape.Reverse())}], expected [{string.Join(", ", shape)}]");
            return Dequantize.Tensor(tensor);
        }, tied, attentionBias: false, threads);
    }

    /// <summary>
    /// A fresh model for training from scratch, initialized as transformers does: weights normal(0,
    /// <paramref name="std"/>), biases zero, norm weights one. Qwen2 has Q/K/V biases, Llama none.
    /// </summary>
    public static StudentModel Initialize(ModelConfig config, bool tiedEmbeddings, int seed, double std = 0.02, int threads = 0)
    {
        var random = new Random(seed);
        return new StudentModel(config, (name, shape) =>
        {
            var value = new float[shape.Aggregate(1, (a, b) => a * b)];
            if (name.EndsWith("norm.weight", StringComparison.Ordinal)) Array.Fill(value, 1f);
            else if (!name.EndsWith(".bias", StringComparison.Ordinal)) FillNormal(random, value, std);
            return value;
        }, tiedEmbeddings, attentionBias: config.Architecture == "qwen2", threads);
    }

    internal static void FillNormal(Random random, Span<float> values, double std)
    {
        for (int i = 0; i < values.Length; i += 2)
        {
            // Box–Muller: two normals from two uniforms.
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double radius = Math.Sqrt(-2 * Math.Log(u1)) * std;
            values[i] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length) values[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
        }
    }

    /// <summary>
    /// Adds LoRA adapters to the target projections and freezes the base model. A is initialized as
    /// PEFT does (Kaiming-uniform, bound 1/√in), B as zeros, so training starts from the base model.
    /// </summary>
    public void AttachLora(LoraOptions options, int seed)
    {
        options.Validate();
        if (Lora != null) throw new InvalidOperationException("LoRA adapters are already attached");
        var random = new Random(seed);
        foreach (var p in _baseParameters) p.Trainable = false;
        for (int l = 0; l < _layers.Length; l++)
            foreach (var (module, linear) in Modules(l))
            {
                if (!options.Targets.Contains(module[(module.LastIndexOf('.') + 1)..])) continue;
                string prefix = $"model.layers.{l}.{module}.";
                var a = new Parameter(prefix + "lora_A.weight", [options.Rank, linear.In], new float[options.Rank * linear.In], true);
                double bound = 1 / Math.Sqrt(linear.In);
                for (int i = 0; i < a.Value.Length; i++) a.Value[i] = (float)((random.NextDouble() * 2 - 1) * bound);
                var b = new Parameter(prefix + "lora_B.weight", [linear.Out, options.Rank], new float[linear.Out * options.Rank], true);
                linear.AttachLora(a, b, options.Scaling, options.Dropout);
                _loraParameters.Add(a);
                _loraParameters.Add(b);
            }
        Lora = options;
    }

    /// <summary>
    /// Folds the adapters into the base weights (W += alpha/r · B·A) and removes them; the model is
    /// then a plain model again with every parameter trainable.
    /// </summary>
    public void MergeLora()
    {
        if (Lora == null) return;
        for (int l = 0; l < _layers.Length; l++)
            foreach (var (_, linear) in Modules(l))
            {
                if (linear.LoraA is not { } a || linear.LoraB is not { } b) continue;
                var delta = new float[linear.Out * linear.In];
                _ctx.MatMul.Multiply(b.Value, false, a.Value, false, delta, linear.Out, linear.In, a.Shape[0], accumulate: false);
                VectorMath.AddScaled(linear.Weight.Value, delta, (float)linear.LoraScaling);
                linear.DetachLora();
            }
        _loraParameters.Clear();
        foreach (var p in _baseParameters) p.Trainable = true;
        Lora = null;
    }

    /// <summary>The projections of layer l by their module path (self_attn.q_proj, …, mlp.down_proj).</summary>
    internal IEnumerable<(string Module, LinearLayer Linear)> Modules(int layer)
    {
        var d = _layers[layer];
        yield return ("self_attn.q_proj", d.Query);
        yield return ("self_attn.k_proj", d.Key);
        yield return ("self_attn.v_proj", d.Value);
        yield return ("self_attn.o_proj", d.Output);
        yield return ("mlp.gate_proj", d.Gate);
        yield return ("mlp.up_proj", d.Up);
        yield return ("mlp.down_proj", d.Down);
    }

    /// <summary>The hidden states entering each layer (and the final norm) of the last forward pass, [N, hidden] each.</summary>
    internal IReadOnlyList<float[]> HiddenStates => [.. _layers.Select(l => l.Input), _finalInput];

    public void ZeroGradients()
    {
        foreach (var p in Parameters) p.ClearGradient();
    }

    /// <summary>
    /// Runs the batch and returns its logits [tokens, OutputVocabulary] (the model's buffer, valid until
    /// the next call). <paramref name="dropout"/> drives LoRA dropout; null evaluates without it.
    /// </summary>
    public float[] Forward(TrainingBatch batch, Random? dropout = null)
    {
        var c = Config;
        int n = batch.TokenCount, hidden = c.HiddenSize, vocab = _outputVocabulary;
        _batch = batch;
        LayerScratch.Grow(ref _x, n * hidden);
        LayerScratch.Grow(ref _finalInput, n * hidden);
        LayerScratch.Grow(ref _finalRstd, n);
        LayerScratch.Grow(ref _finalNormed, n * hidden);
        LayerScratch.Grow(ref _logits, n * vocab);
        _ctx.Scratch.Ensure(n, hidden, c.HeadCount * c.HeadDim, c.KvHeadCount * c.HeadDim, c.FeedForwardSize);
        int maxPosition = batch.Positions.Max();
        if (maxPosition > _ctx.TablePositions)
        {
            (_ctx.Cos, _ctx.Sin) = TokenOps.RopeTables(_inverseFrequencies, maxPosition);
            _ctx.TablePositions = maxPosition;
        }

        var embedding = _embedding.Value;
        for (int t = 0; t < n; t++)
        {
            int id = batch.Tokens[t];
            if ((uint)id >= (uint)c.VocabSize)
                throw new RetortException($"token id {id} at batch position {t} is outside the vocabulary (size {c.VocabSize})");
            Array.Copy(embedding, (long)id * hidden, _x, (long)t * hidden, hidden);
        }
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l].Forward(_ctx, batch, _x, dropout);
            int captured = Array.IndexOf(_capturedLayers, l);
            if (captured < 0) continue;
            LayerScratch.Grow(ref _hidden[captured], n * hidden);
            Array.Copy(_x, _hidden[captured], n * hidden);
        }
        Array.Copy(_x, _finalInput, n * hidden);
        TokenOps.RmsNorm(_ctx.Range, _x, _finalNorm.Value, c.RmsNormEps, _finalNormed, _finalRstd, n, hidden);
        _ctx.MatMul.Multiply(_finalNormed, false, _head.Value, true, _logits, n, vocab, hidden, accumulate: false);
        return _logits;
    }

    /// <summary>
    /// Adds d loss / d parameter to every trainable parameter's gradient, given d loss / d logits
    /// [tokens, OutputVocabulary] for the batch of the last <see cref="Forward"/>.
    /// </summary>
    public void Backward(float[] logitGradient) => Backward(logitGradient, null);

    /// <summary>
    /// <see cref="Backward(float[])"/> plus d loss / d (output of captured layer) for each of
    /// <see cref="CapturedLayers"/> (null entries: none), as feature distillation adds.
    /// </summary>
    internal void Backward(float[] logitGradient, float[]?[]? hiddenGradients)
    {
        var batch = _batch ?? throw new InvalidOperationException("Backward needs a Forward pass first");
        var c = Config;
        int n = batch.TokenCount, hidden = c.HiddenSize, vocab = _outputVocabulary;
        if (logitGradient.Length < n * vocab) throw new ArgumentException($"logit gradient must hold {n}×{vocab} values");
        var mm = _ctx.MatMul;
        var dNormed = _ctx.Scratch.Hidden;
        if (_head.Trainable) mm.Multiply(logitGradient, true, _finalNormed, false, _head.Gradient, vocab, hidden, n, accumulate: true);
        mm.Multiply(logitGradient, false, _head.Value, false, dNormed, n, hidden, vocab, accumulate: false);
        LayerScratch.Grow(ref _dx, n * hidden);
        Array.Clear(_dx, 0, n * hidden);
        TokenOps.RmsNormBackward(_ctx.Range, _finalInput, _finalRstd, _finalNorm, dNormed, _dx, n, hidden);
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            // _dx holds d loss / d (output of layer l) here: the place to add a feature loss on that output.
            int captured = Array.IndexOf(_capturedLayers, l);
            if (captured >= 0 && hiddenGradients?[captured] is { } extra) VectorMath.Add(_dx.AsSpan(0, n * hidden), extra.AsSpan(0, n * hidden));
            _layers[l].Backward(_ctx, batch, _dx);
        }
        if (!_embedding.Trainable) return;
        var g = _embedding.Gradient;
        for (int t = 0; t < n; t++)
            VectorMath.Add(g.AsSpan(batch.Tokens[t] * hidden, hidden), _dx.AsSpan(t * hidden, hidden));
    }

    public void Dispose() => _pool?.Dispose();
}
