using System.Text.Json;
using Retort.Engine.Formats.Gguf;
using Retort.Engine.Generation;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.Model;
using Retort.Engine.Templates;
using Retort.Engine.Tensors;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Loading;

/// <summary>
/// A model ready to run: weights (memory-mapped), hyperparameters, tokenizer and chat template,
/// from a .gguf file or a Hugging Face folder. Dispose it to unmap the weights.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(string path, string format, ITensorStore store, ModelConfig config, Tokenizer tokenizer,
        ChatTemplate? template, string? templateSource, IReadOnlySet<int> eos, int threads)
    {
        Path = path;
        Format = format;
        Weights = store;
        Config = config;
        Tokenizer = tokenizer;
        ChatTemplate = template;
        ChatTemplateSource = templateSource;
        EndOfSequenceTokens = eos;
        Transformer = new Transformer(config, store, threads);
    }

    public string Path { get; }

    /// <summary>"gguf" or "safetensors".</summary>
    public string Format { get; }

    public ITensorStore Weights { get; }

    public ModelConfig Config { get; }

    public Transformer Transformer { get; }

    /// <summary>Held around each forward pass by generators that share this model concurrently.</summary>
    public ForwardLock ForwardLock { get; } = new();

    public Tokenizer Tokenizer { get; }

    public ChatTemplate? ChatTemplate { get; }

    public string? ChatTemplateSource { get; }

    /// <summary>Where the chat template came from: the file, a --chat-template file, or a built-in one.</summary>
    public string? ChatTemplateOrigin { get; private init; }

    /// <summary>Tokens that end generation (EOS, and end-of-turn tokens where the model defines them).</summary>
    public IReadOnlySet<int> EndOfSequenceTokens { get; }

    public string? BosToken => Tokenizer.BosTokenId is int id ? Tokenizer.TokenText(id) : null;

    public string? EosToken => Tokenizer.EosTokenId is int id ? Tokenizer.TokenText(id) : null;

    public long ParameterCount => Weights.Tensors.Values.Sum(t => t.ElementCount);

    /// <summary>Bytes of the weights as stored (what mapping them keeps resident), for the memory budget of <see cref="ContextPlan"/>.</summary>
    public long WeightBytes => Weights.Tensors.Values.Sum(t => t.ByteLength);

    /// <summary>Opens a .gguf file or a Hugging Face model folder; <paramref name="chatTemplatePath"/> overrides the template.</summary>
    /// <param name="threads">Worker threads for the matrix products (0: every core; negative: the float32 reference path).</param>
    public static LoadedModel Load(string path, string? chatTemplatePath = null, int threads = 0)
    {
        if (Directory.Exists(path)) return LoadHfFolder(System.IO.Path.GetFullPath(path), chatTemplatePath, threads);
        if (File.Exists(path)) return LoadGguf(System.IO.Path.GetFullPath(path), chatTemplatePath, threads);
        throw new RetortException($"model not found: '{path}' (expected a .gguf file or a Hugging Face model folder)");
    }

    private static LoadedModel LoadGguf(string path, string? chatTemplatePath, int threads)
    {
        var store = GgufSplitModel.OpenModel(path, out var gguf);
        try
        {
            var config = ModelConfig.FromGguf(gguf);
            var tokenizer = TokenizerFromGguf(gguf);
            gguf.DropMetadata(["tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type", "tokenizer.ggml.scores"]);
            string? source = chatTemplatePath != null ? ReadTemplate(chatTemplatePath) : gguf.GetString("tokenizer.chat_template");
            string? origin = chatTemplatePath ?? (source != null ? "tokenizer.chat_template" : null);
            if (source == null && BuiltInTemplates.For(tokenizer) is var (name, builtIn))
                (source, origin) = (builtIn, $"built-in {name} (the file has none)");
            var eos = new HashSet<int>(tokenizer.EosTokenIds);
            foreach (string key in new[] { "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id" })
                if (GgufTokenId(gguf, key, tokenizer.VocabSize) is int id) eos.Add(id);
            return new LoadedModel(path, "gguf", store, config, tokenizer, ParseTemplate(source, chatTemplatePath ?? $"{path}: {origin}"), source, eos, threads)
            {
                ChatTemplateOrigin = origin,
            };
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private static Tokenizer TokenizerFromGguf(GgufFile gguf)
    {
        string model = gguf.GetString("tokenizer.ggml.model")
            ?? throw new RetortException($"{gguf.Path}: the file has no tokenizer (metadata 'tokenizer.ggml.model' is missing)");
        if (model != "gpt2")
            throw new RetortException(
                $"{gguf.Path}: tokenizer model '{model}' is not supported (expected 'gpt2', the byte-level BPE of Qwen2 and Llama 3)");
        string[] tokens = gguf.GetStringArray("tokenizer.ggml.tokens")
            ?? throw new RetortException($"{gguf.Path}: metadata 'tokenizer.ggml.tokens' is missing");
        string[] merges = gguf.GetStringArray("tokenizer.ggml.merges")
            ?? throw new RetortException($"{gguf.Path}: metadata 'tokenizer.ggml.merges' is missing");
        if (tokens.Length > Tokenizer.MaxVocabularySize)
            throw new RetortException($"'{gguf.Path}': metadata 'tokenizer.ggml.tokens': expected at most {Tokenizer.MaxVocabularySize} tokens, found {tokens.Length}");
        int[]? types = null;
        if (gguf.GetIntegerArray("tokenizer.ggml.token_type") is { } rawTypes)
        {
            if (rawTypes.Length != tokens.Length)
                throw new RetortException(
                    $"'{gguf.Path}': metadata 'tokenizer.ggml.token_type': expected one type per token ({tokens.Length}), found {rawTypes.Length}");
            types = [.. rawTypes.Select(v => (int)Math.Clamp(v, int.MinValue, int.MaxValue))];
        }
        string pre = gguf.GetString("tokenizer.ggml.pre") ?? "default";
        int? bos = GgufTokenId(gguf, "tokenizer.ggml.bos_token_id", tokens.Length);
        int? eos = GgufTokenId(gguf, "tokenizer.ggml.eos_token_id", tokens.Length);
        bool addBos = gguf.GetBool("tokenizer.ggml.add_bos_token") ?? false;
        try
        {
            return Tokenizer.FromVocabulary(tokens, types, merges, pre, bos, eos, addBos);
        }
        catch (RetortException e)
        {
            throw new RetortException($"'{gguf.Path}': {e.Message}", e);
        }
    }

    /// <summary>A token id from GGUF metadata, which must name one of the file's tokens.</summary>
    private static int? GgufTokenId(GgufFile gguf, string key, int tokenCount)
    {
        if (gguf.GetInteger(key) is not long id) return null;
        if (id < 0 || id >= tokenCount)
            throw new RetortException($"'{gguf.Path}': metadata '{key}': expected a token id in 0..{tokenCount - 1}, found {id}");
        return (int)id;
    }

    private static LoadedModel LoadHfFolder(string dir, string? chatTemplatePath, int threads)
    {
        var folder = HfModelFolder.Open(dir);
        try
        {
            var config = ModelConfig.FromHfConfig(folder.Config, System.IO.Path.Combine(dir, "config.json"));
            if (!File.Exists(System.IO.Path.Combine(dir, "tokenizer.json")))
                throw new RetortException($"{dir}: the folder has no tokenizer.json (expected a Hugging Face tokenizer beside config.json)");
            var tokenizer = Tokenizer.FromHfFolder(dir);
            string? source = chatTemplatePath != null ? ReadTemplate(chatTemplatePath) : HfChatTemplate(dir);
            string? origin = chatTemplatePath ?? (source != null ? "the folder's chat template" : null);
            if (source == null && BuiltInTemplates.For(tokenizer) is var (name, builtIn))
                (source, origin) = (builtIn, $"built-in {name} (the folder has none)");
            // The tokenizer's EOS set already holds generation_config.json's eos_token_id, checked.
            var eos = new HashSet<int>(tokenizer.EosTokenIds);
            AddEosIds(folder.Config, eos);
            return new LoadedModel(dir, "safetensors", folder, config, tokenizer, ParseTemplate(source, chatTemplatePath ?? $"{dir}: {origin}"), source, eos, threads)
            {
                ChatTemplateOrigin = origin,
            };
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    private static void AddEosIds(JsonElement json, HashSet<int> eos)
    {
        if (json.ValueKind != JsonValueKind.Object || !json.TryGetProperty("eos_token_id", out var e)) return;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int id)) eos.Add(id);
        else if (e.ValueKind == JsonValueKind.Array)
            foreach (var item in e.EnumerateArray())
                if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out int i)) eos.Add(i);
        // Ids that name no token can never be generated; keeping them out keeps the set honest.
        eos.RemoveWhere(id => id < 0 || id >= Tokenizer.MaxVocabularySize);
    }

    /// <summary>chat_template.jinja wins over tokenizer_config.json's chat_template, as in transformers 5.</summary>
    private static string? HfChatTemplate(string dir)
    {
        string jinja = System.IO.Path.Combine(dir, "chat_template.jinja");
        if (File.Exists(jinja)) return ReadTemplate(jinja);
        string configPath = System.IO.Path.Combine(dir, "tokenizer_config.json");
        if (!File.Exists(configPath)) return null;
        using var doc = TokenizerJsonLoader.Parse(configPath);
        var t = new IO.JsonAt(doc.RootElement, configPath, "").RequireObject()["chat_template"];
        if (t.IsAbsent) return null;
        if (t.Kind == JsonValueKind.String) return t.String();
        // transformers' named templates: [{"name": "default", "template": "…"}, …]
        foreach (var item in t.Items())
            if (item.RequireObject()["name"].String() == "default") return item["template"].String();
        return null;
    }

    /// <summary>Largest chat template read: real ones are a few KB, the longest tool-calling ones under 100 KB.</summary>
    private const long MaxTemplateBytes = 16L << 20;

    private static string ReadTemplate(string path)
    {
        if (!File.Exists(path)) throw new RetortException($"chat template not found: '{path}'");
        long length = new FileInfo(path).Length;
        if (length > MaxTemplateBytes)
            throw new RetortException($"'{path}': expected a chat template of at most {MaxTemplateBytes >> 20} MiB, found {length} bytes");
        return File.ReadAllText(path);
    }

    private static ChatTemplate? ParseTemplate(string? source, string where)
    {
        if (string.IsNullOrEmpty(source)) return null;
        try
        {
            return new ChatTemplate(source);
        }
        catch (RetortException ex)
        {
            throw new RetortException($"{where}: {ex.Message}");
        }
    }

    public void Dispose()
    {
        Transformer.Dispose();
        Weights.Dispose();
    }
}
