using System.Text.Json.Nodes;
using Retort.Engine.Formats.Gguf;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.Loading;
using Retort.Engine.Tensors;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Model;

/// <summary>
/// Hostile model folders and GGUF files made from the micro fixture: broken hyperparameters, missing,
/// misshapen and unexpected tensors. Each must fail with a one-line RetortException naming the file
/// and the key or tensor, before the model runs; random damage must load or fail that way, and a
/// model that loads must compute finite logits.
/// </summary>
public sealed class ModelLoadingAttackTests : IDisposable
{
    private static readonly string MicroGguf = Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf");

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string ConfigJson => _dir.File("config.json");

    private string Weights => _dir.File("model.safetensors");

    private static RetortException LoadFails(string path, params string[] fragments)
    {
        var e = Assert.Throws<RetortException>(() => LoadedModel.Load(path, threads: 1).Dispose());
        FixtureCopy.AssertNames(e, fragments);
        return e;
    }

    /// <summary>Sets (or, for null, removes) the value at a dotted path of a JSON object.</summary>
    private static void Set(JsonObject root, string path, JsonNode? value)
    {
        string[] parts = path.Split('.');
        JsonObject node = root;
        foreach (string part in parts[..^1])
        {
            if (node[part] is not JsonObject child) node[part] = child = new JsonObject();
            node = child;
        }
        if (value is null) node.Remove(parts[^1]);
        else node[parts[^1]] = value;
    }

    public static TheoryData<string, string, string> BadConfigs() => new()
    {
        // key, value (JSON), what the message must also contain
        { "rope_parameters.rope_theta", "1e999", "1e999" },
        { "rope_parameters.rope_theta", "1e39", "float32" },
        { "rope_parameters.rope_theta", "0", "greater than 1" },
        { "rope_parameters.rope_theta", "-10000", "-10000" },
        { "rope_parameters.rope_theta", "\"10000\"", "the string" },
        { "rms_norm_eps", "-1e-06", "-1" },
        { "rms_norm_eps", "0", "(0, 1)" },
        { "rms_norm_eps", "1e999", "1e999" },
        { "rms_norm_eps", "2", "found 2" },
        { "num_attention_heads", "0", "found 0" },
        { "num_attention_heads", "3", "divisor of the hidden size 64" },
        { "num_attention_heads", "-4", "found -4" },
        { "num_attention_heads", "4.5", "4.5" },
        { "num_key_value_heads", "3", "divisor of the 4 attention heads" },
        { "num_key_value_heads", "8", "found 8" },
        { "num_key_value_heads", "0", "found 0" },
        { "vocab_size", "2147483648", "2147483648" },
        { "vocab_size", "0", "found 0" },
        { "hidden_size", "1000000000", "1000000000" },
        { "hidden_size", "0", "found 0" },
        { "intermediate_size", "-1", "found -1" },
        { "num_hidden_layers", "0", "found 0" },
        { "num_hidden_layers", "100000", "100000" },
        { "max_position_embeddings", "1073741824", "1073741824" },
        { "max_position_embeddings", "-1", "found -1" },
        { "head_dim", "7", "even head size" },
        { "head_dim", "0", "found 0" },
        { "model_type", "5", "expected a string" },
        { "model_type", "\"mistral\"", "not supported" },
        { "hidden_act", "\"gelu\"", "silu" },
        { "mlp_bias", "true", "not supported" },
        { "tie_word_embeddings", "\"no\"", "true or false" },
        { "rope_parameters", "5", "expected an object" },
        { "rope_parameters.rope_type", "\"yarn\"", "'yarn' is not supported" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void A_config_value_out_of_range_names_config_json_and_the_key(string key, string value, string fragment)
    {
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        FixtureCopy.EditJson(ConfigJson, root => Set(root, key, JsonNode.Parse(value)));
        // A key in a nested object is named by its path from the top.
        LoadFails(dir, ConfigJson, key, fragment);
    }

    [Theory]
    [InlineData("factor", "1e999")]
    [InlineData("low_freq_factor", "0")]
    [InlineData("high_freq_factor", "1")]
    [InlineData("original_max_position_embeddings", "-8192")]
    public void Llama3_rope_scaling_factors_must_be_finite_and_ordered(string key, string value)
    {
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        FixtureCopy.EditJson(ConfigJson, root =>
        {
            var rope = JsonNode.Parse("""{ "rope_type": "llama3", "rope_theta": 500000, "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192 }""")!.AsObject();
            rope[key] = JsonNode.Parse(value);
            root["rope_parameters"] = rope;
        });
        LoadFails(dir, ConfigJson, $"rope_parameters.{key}", value);
    }

    [Theory]
    [InlineData("hidden_size", 128, "model.embed_tokens.weight", "expected shape [512, 128], found [512, 64]")]
    [InlineData("intermediate_size", 256, "model.layers.0.mlp.gate_proj.weight", "expected shape [256, 64], found [128, 64]")]
    [InlineData("vocab_size", 1000, "model.embed_tokens.weight", "expected shape [1000, 64], found [512, 64]")]
    [InlineData("num_key_value_heads", 4, "model.layers.0.self_attn.k_proj.weight", "expected shape [64, 64], found [32, 64]")]
    [InlineData("num_hidden_layers", 3, "model.layers.2.input_layernorm.weight", "found no such tensor")]
    [InlineData("num_hidden_layers", 1, "model.layers.1.", "the configured layer count is 1")]
    public void A_config_that_describes_other_weights_names_the_tensor(string key, int value, string tensor, string fragment)
    {
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        FixtureCopy.EditJson(ConfigJson, root => root[key] = value);
        LoadFails(dir, Weights, tensor, fragment);
    }

    /// <summary>Rewrites the copy's model.safetensors: each tensor through <paramref name="edit"/> (null drops it), then <paramref name="extra"/>.</summary>
    private void RewriteWeights(Func<string, long[], byte[], (string DType, long[] Shape, byte[] Data)?> edit,
        params (string Name, string DType, long[] Shape, byte[] Data)[] extra)
    {
        var builder = new SafeTensorsBuilder();
        using (var source = SafeTensorsFile.Open(Fixtures.Path("qwen2-micro", "hf", "model.safetensors")))
        {
            foreach (var t in source.TensorList)
            {
                long[] shape = [.. t.Shape.Reverse()];
                if (edit(t.Name, shape, t.AllBytes().ToArray()) is { } e) builder.Add(t.Name, e.DType, e.Shape, e.Data);
            }
        }
        foreach (var e in extra) builder.Add(e.Name, e.DType, e.Shape, e.Data);
        File.WriteAllBytes(Weights, builder.ToArray());
    }

    [Theory]
    [InlineData("model.layers.0.self_attn.k_proj.bias", "[32]", "Qwen2 has Q/K/V biases")]
    [InlineData("model.layers.1.self_attn.q_proj.bias", "[64]", "Qwen2 has Q/K/V biases")]
    [InlineData("model.layers.1.self_attn.v_proj.bias", "[32]", "Qwen2 has Q/K/V biases")]
    [InlineData("model.embed_tokens.weight", "[512, 64]", "token embedding")]
    [InlineData("model.norm.weight", "[64]", "")]
    [InlineData("lm_head.weight", "[512, 64]", "tie_word_embeddings false")]
    [InlineData("model.layers.1.input_layernorm.weight", "[64]", "")]
    [InlineData("model.layers.0.post_attention_layernorm.weight", "[64]", "")]
    [InlineData("model.layers.1.self_attn.q_proj.weight", "[64, 64]", "")]
    [InlineData("model.layers.0.self_attn.k_proj.weight", "[32, 64]", "")]
    [InlineData("model.layers.1.self_attn.v_proj.weight", "[32, 64]", "")]
    [InlineData("model.layers.0.self_attn.o_proj.weight", "[64, 64]", "")]
    [InlineData("model.layers.1.mlp.gate_proj.weight", "[128, 64]", "")]
    [InlineData("model.layers.0.mlp.up_proj.weight", "[128, 64]", "")]
    [InlineData("model.layers.1.mlp.down_proj.weight", "[64, 128]", "")]
    public void A_folder_missing_a_tensor_names_the_file_the_tensor_and_its_shape(string name, string shape, string why)
    {
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        RewriteWeights((n, s, d) => n == name ? null : ("F32", s, d));
        LoadFails(dir, Weights, $"tensor '{name}'", $"expected a tensor of shape {shape}", why, "found no such tensor");
    }

    [Fact]
    public void A_wrong_shaped_tensor_names_expected_and_found_shapes()
    {
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        RewriteWeights((n, s, d) => n == "model.layers.0.self_attn.k_proj.weight" ? ("F32", [16, 64], d[..(16 * 64 * 4)]) : ("F32", s, d));
        LoadFails(dir, Weights, "'model.layers.0.self_attn.k_proj.weight'", "expected shape [32, 64], found [16, 64]");

        // Transposed: the same bytes, the wrong way round.
        RewriteWeights((n, s, d) => n == "model.layers.1.mlp.down_proj.weight" ? ("F32", [128, 64], d) : ("F32", s, d));
        LoadFails(dir, Weights, "'model.layers.1.mlp.down_proj.weight'", "expected shape [64, 128], found [128, 64]");

        // A bias of the wrong length.
        RewriteWeights((n, s, d) => n == "model.layers.1.self_attn.v_proj.bias" ? ("F32", [16], d[..64]) : ("F32", s, d));
        LoadFails(dir, Weights, "'model.layers.1.self_attn.v_proj.bias'", "expected shape [32], found [16]");
    }

    [Fact]
    public void A_tensor_of_a_type_the_engine_cannot_compute_with_is_named()
    {
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        RewriteWeights((n, s, d) => n == "model.layers.0.input_layernorm.weight" ? ("I32", s, d) : ("F32", s, d));
        LoadFails(dir, Weights, "'model.layers.0.input_layernorm.weight'", "type I32");
    }

    [Fact]
    public void Biases_beyond_the_architectures_are_shape_checked_and_used()
    {
        // Retort's own students train o_proj and MLP biases, so a bias a file carries is used,
        // and a wrong-shaped one is refused by name.
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        RewriteWeights((_, s, d) => ("F32", s, d), ("model.layers.1.mlp.up_proj.bias", "F32", [127], new byte[127 * 4]));
        LoadFails(dir, Weights, "'model.layers.1.mlp.up_proj.bias'", "[128]");

        float[] Logits()
        {
            using var model = LoadedModel.Load(dir, threads: 1);
            return model.Transformer.Forward([1, 2, 3], model.Transformer.CreateCache(8));
        }
        RewriteWeights((_, s, d) => ("F32", s, d));
        float[] plain = Logits();
        byte[] ones = new byte[64 * 4];
        for (int i = 0; i < 64; i++) BitConverter.GetBytes(0.5f).CopyTo(ones, i * 4);
        RewriteWeights((_, s, d) => ("F32", s, d), ("model.layers.0.self_attn.o_proj.bias", "F32", [64], ones));
        float[] biased = Logits();
        Assert.True(plain.Zip(biased).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "the o_proj bias was not used");
    }

    [Fact]
    public void A_llama_folder_uses_the_biases_it_carries()
    {
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        FixtureCopy.EditJson(ConfigJson, root => root["model_type"] = "llama");
        using var model = LoadedModel.Load(dir, threads: 1);
        Assert.Equal("llama", model.Config.Architecture);
    }

    [Fact]
    public void A_tied_model_without_lm_head_loads_and_an_untied_one_does_not()
    {
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        RewriteWeights((n, s, d) => n == "lm_head.weight" ? null : ("F32", s, d));
        LoadFails(dir, Weights, "'lm_head.weight'");
        FixtureCopy.EditJson(ConfigJson, root => root["tie_word_embeddings"] = true);
        using var model = LoadedModel.Load(dir, threads: 1);
        Assert.True(model.Transformer.TiedEmbeddings);
    }

    /// <summary>Writes a copy of the micro GGUF with metadata replaced (null removes a key) and tensors filtered or replaced.</summary>
    private string RewriteGguf(IReadOnlyDictionary<string, GgufValue?> metadata, Func<TensorData, bool>? keep = null,
        params (string Name, GgmlType Type, long[] Shape, byte[] Data)[] extra)
    {
        string path = _dir.File("model.gguf");
        using var source = GgufFile.Open(MicroGguf);
        var writer = new GgufWriter();
        foreach (string key in source.MetadataKeys)
        {
            if (!metadata.TryGetValue(key, out var value)) writer.SetMetadata(key, source.Metadata[key]);
            else if (value != null) writer.SetMetadata(key, value);
        }
        foreach (var (key, value) in metadata)
            if (value != null && !source.Metadata.ContainsKey(key)) writer.SetMetadata(key, value);
        foreach (var t in source.TensorList)
            if ((keep?.Invoke(t) ?? true) && !extra.Any(e => e.Name == t.Name)) writer.AddTensor(t);
        foreach (var e in extra) writer.AddTensor(e.Name, e.Type, e.Shape, e.Data);
        writer.Write(path);
        return path;
    }

    public static TheoryData<string, string, string> BadGgufMetadata() => new()
    {
        // key, value ("f32:…", "u32:…", "u64:…", "i32:…", "str:…"), what the message must also contain
        { "qwen2.rope.freq_base", "f32:NaN", "NaN" },
        { "qwen2.rope.freq_base", "f32:Infinity", "Infinity" },
        { "qwen2.rope.freq_base", "f32:0", "greater than 1" },
        { "qwen2.rope.freq_base", "f32:-10000", "-10000" },
        { "qwen2.rope.freq_base", "f64:1e300", "1E+300" },
        { "qwen2.attention.layer_norm_rms_epsilon", "f32:NaN", "NaN" },
        { "qwen2.attention.layer_norm_rms_epsilon", "f32:-1e-6", "(0, 1)" },
        { "qwen2.attention.layer_norm_rms_epsilon", "f32:2", "found 2" },
        { "qwen2.attention.head_count", "u32:0", "found 0" },
        { "qwen2.attention.head_count", "u32:3", "divisor of the hidden size 64" },
        { "qwen2.attention.head_count_kv", "u32:3", "divisor of the 4 attention heads" },
        { "qwen2.attention.head_count_kv", "i32:-2", "found -2" },
        { "qwen2.attention.key_length", "u32:7", "even head size" },
        { "qwen2.attention.value_length", "u32:8", "key length 16" },
        { "qwen2.rope.dimension_count", "u32:8", "partial rotary" },
        { "qwen2.rope.scaling.type", "str:yarn", "'yarn'" },
        { "qwen2.context_length", "u32:2147483648", "2147483648" },
        { "qwen2.context_length", "u64:1099511627776", "1099511627776" },
        { "qwen2.embedding_length", "u32:0", "found 0" },
        { "qwen2.embedding_length", "str:64", "an integer" },
        { "qwen2.block_count", "u32:1048576", "1048576" },
        { "qwen2.feed_forward_length", "u32:2147483648", "2147483648" },
        { "qwen2.vocab_size", "u32:2147483648", "2147483648" },
        { "tokenizer.ggml.eos_token_id", "u32:2147483648", "2147483648" },
        { "tokenizer.ggml.bos_token_id", "i32:-1", "found -1" },
        { "tokenizer.ggml.eot_token_id", "u32:100000", "100000" },
    };

    private static GgufValue Value(string spec)
    {
        string[] p = spec.Split(':', 2);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return p[0] switch
        {
            "f32" => GgufValue.Of(float.Parse(p[1], inv)),
            "f64" => GgufValue.Of(double.Parse(p[1], inv)),
            "u32" => GgufValue.Of(uint.Parse(p[1], inv)),
            "u64" => GgufValue.Of(ulong.Parse(p[1], inv)),
            "i32" => GgufValue.Of(int.Parse(p[1], inv)),
            _ => GgufValue.Of(p[1]),
        };
    }

    [Theory]
    [MemberData(nameof(BadGgufMetadata))]
    public void Bad_gguf_metadata_names_the_file_and_the_key(string key, string value, string fragment)
    {
        string path = RewriteGguf(new Dictionary<string, GgufValue?> { [key] = Value(value) });
        LoadFails(path, path, key, fragment);
    }

    [Fact]
    public void A_gguf_missing_a_tensor_or_with_a_wrong_shape_names_it()
    {
        string path = RewriteGguf(new Dictionary<string, GgufValue?>(), t => t.Name != "blk.1.attn_v.bias");
        LoadFails(path, path, "tensor 'blk.1.attn_v.bias'", "expected a tensor of shape [32]", "found no such tensor");

        path = RewriteGguf(new Dictionary<string, GgufValue?>(), null, ("blk.0.ffn_down.weight", GgmlType.F32, [64, 128], new byte[64 * 128 * 4]));
        LoadFails(path, path, "tensor 'blk.0.ffn_down.weight'", "expected shape [128, 64], found [64, 128]");

        path = RewriteGguf(new Dictionary<string, GgufValue?> { ["qwen2.vocab_size"] = GgufValue.Of(512u) }, t => t.Name != "token_embd.weight");
        LoadFails(path, path, "tensor 'token_embd.weight'", "expected a tensor of shape [64, 512]");
        // Without a vocabulary size the embedding is what tells it.
        path = RewriteGguf(new Dictionary<string, GgufValue?>(), t => t.Name != "token_embd.weight");
        LoadFails(path, path, "token_embd.weight", "vocabulary size");
    }

    [Fact]
    public void A_gguf_with_fewer_layers_configured_than_stored_is_refused()
    {
        string path = RewriteGguf(new Dictionary<string, GgufValue?> { ["qwen2.block_count"] = GgufValue.Of(1u) });
        LoadFails(path, path, "blk.1.", "the configured layer count is 1");
    }

    [Fact]
    public void A_rope_factor_tensor_is_checked_before_it_sizes_anything()
    {
        string path = RewriteGguf(new Dictionary<string, GgufValue?>(), null, ("rope_freqs.weight", GgmlType.F32, [1 << 20], new byte[4 << 20]));
        LoadFails(path, path, "rope_freqs.weight", "expected shape [8]", "found [1048576]");

        byte[] nan = new byte[8 * 4];
        BitConverter.GetBytes(float.NaN).CopyTo(nan, 12);
        path = RewriteGguf(new Dictionary<string, GgufValue?>(), null, ("rope_freqs.weight", GgmlType.F32, [8], nan));
        LoadFails(path, path, "rope_freqs.weight", "finite positive");
    }

    [Fact]
    public void A_kv_cache_larger_than_an_array_is_refused_before_allocating()
    {
        using var model = LoadedModel.Load(Fixtures.Path("qwen2-micro", "hf"), threads: 1);
        // 2^27 positions × 32 floats per layer is 2^32 floats: past what one array holds.
        var e = Assert.Throws<RetortException>(() => model.Transformer.CreateCache(1 << 27));
        FixtureCopy.AssertNames(e, "134217728 tokens", "KV cache", "--ctx");
        FixtureCopy.AssertNames(Assert.Throws<RetortException>(() => model.Transformer.CreateCache(0)), "found 0");
    }

    private static readonly JsonNode?[] InterestingJson =
    [
        0, 1, 2, 3, 7, 16, 63, 64, 65, 128, 4096, -1, 2147483647, 2147483648L, 1L << 40, 0.5, 1e-30, 1e30, 1e39, 1e300,
        JsonNode.Parse("1e999"), JsonNode.Parse("-1e999"), "64", "", true, false, null, new JsonArray(), new JsonObject(),
    ];

    private static readonly string[] ConfigKeys =
    [
        "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers", "vocab_size",
        "rms_norm_eps", "max_position_embeddings", "head_dim", "model_type", "tie_word_embeddings", "hidden_act",
        "rope_parameters", "rope_parameters.rope_theta", "rope_parameters.rope_type", "rope_parameters.factor", "rope_theta",
        "attention_bias", "mlp_bias", "rope_scaling",
    ];

    /// <summary>A loaded model must compute: a short prompt gives finite logits.</summary>
    private static void Exercise(LoadedModel model, string what)
    {
        float[] logits = model.Transformer.Forward([1, 2, 3], model.Transformer.CreateCache(8));
        Assert.True(logits.All(float.IsFinite), $"{what}: loaded but computes non-finite logits");
    }

    [Fact]
    public void Random_config_mutations_load_or_fail_with_a_retort_exception()
    {
        string dir = FixtureCopy.Folder(_dir, "qwen2-micro");
        string original = File.ReadAllText(ConfigJson);
        var rng = new Random(4242);
        int loaded = 0, refused = 0;
        for (int n = 0; n < 200; n++)
        {
            var root = JsonNode.Parse(original)!.AsObject();
            for (int k = rng.Next(1, 3); k > 0; k--)
            {
                var value = InterestingJson[rng.Next(InterestingJson.Length)]?.DeepClone();
                Set(root, ConfigKeys[rng.Next(ConfigKeys.Length)], value);
            }
            File.WriteAllText(ConfigJson, root.ToJsonString());
            if (TryLoad(dir, $"config mutation #{n}: {root.ToJsonString()}")) loaded++;
            else refused++;
        }
        Assert.True(refused > 50, $"only {refused} of 200 mutations were refused");
        Assert.True(loaded > 5, $"only {loaded} of 200 mutations loaded");
    }

    [Fact]
    public void Random_gguf_metadata_mutations_load_or_fail_with_a_retort_exception()
    {
        string[] keys;
        using (var g = GgufFile.Open(MicroGguf))
            keys = [.. g.MetadataKeys.Where(k => k.StartsWith("qwen2.", StringComparison.Ordinal) || k.EndsWith("_token_id", StringComparison.Ordinal)),
                "qwen2.vocab_size", "qwen2.attention.key_length", "qwen2.rope.dimension_count", "tokenizer.ggml.eot_token_id"];
        GgufValue[] values =
        [
            GgufValue.Of(0u), GgufValue.Of(1u), GgufValue.Of(3u), GgufValue.Of(16u), GgufValue.Of(64u), GgufValue.Of(uint.MaxValue),
            GgufValue.Of(-1), GgufValue.Of(ulong.MaxValue), GgufValue.Of(long.MinValue), GgufValue.Of(float.NaN),
            GgufValue.Of(float.PositiveInfinity), GgufValue.Of(-1e-6f), GgufValue.Of(1e-6f), GgufValue.Of(10000f), GgufValue.Of(1e300),
            GgufValue.Of("qwen2"), GgufValue.Of(true), GgufValue.Of(new uint[] { 4, 4 }),
        ];
        var rng = new Random(99);
        int loaded = 0, refused = 0;
        for (int n = 0; n < 100; n++)
        {
            var edits = new Dictionary<string, GgufValue?>();
            for (int k = rng.Next(1, 3); k > 0; k--)
                edits[keys[rng.Next(keys.Length)]] = rng.Next(8) == 0 ? null : values[rng.Next(values.Length)];
            string path = RewriteGguf(edits);
            if (TryLoad(path, $"gguf mutation #{n}: {string.Join(", ", edits.Select(e => $"{e.Key}={e.Value?.ToString() ?? "(removed)"}"))}")) loaded++;
            else refused++;
        }
        Assert.True(refused > 30, $"only {refused} of 100 mutations were refused");
        Assert.True(loaded > 3, $"only {loaded} of 100 mutations loaded");
    }

    /// <summary>Loads within a bound: true when it loaded (and computed), false for a RetortException; anything else fails.</summary>
    private static bool TryLoad(string path, string what)
    {
        var task = Task.Run(() =>
        {
            try
            {
                using var model = LoadedModel.Load(path, threads: 1);
                Exercise(model, what);
                return true;
            }
            catch (RetortException e)
            {
                Assert.DoesNotContain('\n', e.Message);
                return false;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"{what}: {e.GetType().Name} instead of RetortException: {e.Message}");
            }
        });
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), $"{what}: still loading after 10 s");
        return task.Result;
    }
}
