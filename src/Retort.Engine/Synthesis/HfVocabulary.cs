using System.Text.Json;

namespace Retort.Engine.Synthesis;

/// <summary>
/// A Hugging Face tokenizer folder turned into llama.cpp's GGUF tokenizer metadata, the way
/// convert_hf_to_gguf.py does it for byte-level BPE ("gpt2") vocabularies.
/// </summary>
internal sealed class HfVocabulary
{
    public required string[] Tokens { get; init; }
    public required int[] TokenTypes { get; init; }
    public required string[] Merges { get; init; }
    public int? BosId { get; init; }
    public int? EosId { get; init; }
    public int? PadId { get; init; }
    public bool AddBos { get; init; }
    public string? ChatTemplate { get; init; }

    /// <summary>True when an added token is DeepSeek's "<｜begin▁of▁sentence｜>" (the R1 Qwen tokenizers).</summary>
    public bool HasDeepSeekMarkers { get; init; }

    public const int Normal = 1, Control = 3, UserDefined = 4, Unused = 5;

    public static HfVocabulary Read(string dir, int modelVocabSize)
    {
        string jsonPath = Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(jsonPath))
            throw new RetortException($"tokenizer not found: expected tokenizer.json in '{dir}'");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(jsonPath), new JsonDocumentOptions { MaxDepth = 256 });
            var root = doc.RootElement;
            if (!root.TryGetProperty("model", out var model) || !model.TryGetProperty("vocab", out var vocab)
                || vocab.ValueKind != JsonValueKind.Object)
                throw new RetortException($"{jsonPath}: no model.vocab object (expected a BPE tokenizer)");

            var byId = new Dictionary<int, string>();
            foreach (var p in vocab.EnumerateObject()) byId[p.Value.GetInt32()] = p.Name;
            var added = new Dictionary<int, (string Content, bool Special)>();
            if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
                foreach (var a in addedJson.EnumerateArray())
                {
                    int id = a.GetProperty("id").GetInt32();
                    string content = a.GetProperty("content").GetString()!;
                    added[id] = (content, a.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True);
                    byId[id] = content;
                }

            int maxId = byId.Count == 0 ? -1 : byId.Keys.Max();
            if (maxId >= modelVocabSize)
                throw new RetortException($"{jsonPath}: token id {maxId} does not fit the model's vocabulary of {modelVocabSize}");

            // Ids the tokenizer does not use become "[PAD{id}]" unused tokens, as llama.cpp pads them.
            var tokens = new string[modelVocabSize];
            var types = new int[modelVocabSize];
            for (int id = 0; id < modelVocabSize; id++)
            {
                if (!byId.TryGetValue(id, out string? text))
                {
                    tokens[id] = $"[PAD{id}]";
                    types[id] = Unused;
                }
                else if (added.TryGetValue(id, out var a))
                {
                    tokens[id] = a.Content;
                    types[id] = a.Special || LooksSpecial(a.Content) ? Control : UserDefined;
                }
                else
                {
                    tokens[id] = text;
                    types[id] = Normal;
                }
            }

            var merges = new List<string>();
            if (model.TryGetProperty("merges", out var mergesJson) && mergesJson.ValueKind == JsonValueKind.Array)
                foreach (var m in mergesJson.EnumerateArray())
                    merges.Add(m.ValueKind == JsonValueKind.String
                        ? m.GetString()!
                        : m.GetArrayLength() == 2
                            ? $"{m[0].GetString()} {m[1].GetString()}"
                            : throw new RetortException($"{jsonPath}: a merge is neither a string nor a pair"));

            int? Lookup(string content)
            {
                foreach (var (id, a) in added)
                    if (a.Content == content) return id;
                return null;
            }

            int? bos = null, eos = null, pad = null;
            // As gguf-py's SpecialVocab: tokenizer.json's post-processor first, tokenizer_config's add_bos_token over it.
            bool addBos = root.TryGetProperty("post_processor", out var post) && PostProcessorAddsLeadingToken(post);
            string? template = null;
            string configPath = Path.Combine(dir, "tokenizer_config.json");
            if (File.Exists(configPath))
            {
                using var cfg = JsonDocument.Parse(File.ReadAllBytes(configPath));
                var c = cfg.RootElement;
                bos = TokenContent(c, "bos_token") is string b ? Lookup(b) : null;
                eos = TokenContent(c, "eos_token") is string e ? Lookup(e) : null;
                pad = TokenContent(c, "pad_token") is string p ? Lookup(p) : null;
                if (c.TryGetProperty("add_bos_token", out var ab) && ab.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    addBos = ab.ValueKind == JsonValueKind.True;
                if (c.TryGetProperty("chat_template", out var t) && t.ValueKind == JsonValueKind.String) template = t.GetString();
            }
            // config.json's ids fill what tokenizer_config.json does not name, as gguf-py's SpecialVocab does.
            string modelConfig = Path.Combine(dir, "config.json");
            if (File.Exists(modelConfig))
            {
                using var mc = JsonDocument.Parse(File.ReadAllBytes(modelConfig));
                bos ??= IntProperty(mc.RootElement, "bos_token_id");
                eos ??= IntProperty(mc.RootElement, "eos_token_id");
                pad ??= IntProperty(mc.RootElement, "pad_token_id");
            }
            // chat_template.jinja wins over tokenizer_config.json, as in transformers 5.
            string jinja = Path.Combine(dir, "chat_template.jinja");
            if (File.Exists(jinja)) template = File.ReadAllText(jinja);

            return new HfVocabulary
            {
                Tokens = tokens,
                TokenTypes = types,
                Merges = [.. merges],
                BosId = bos,
                EosId = eos,
                PadId = pad,
                AddBos = addBos,
                ChatTemplate = template,
                HasDeepSeekMarkers = added.Values.Any(a => a.Content == "<｜begin▁of▁sentence｜>"),
            };
        }
        catch (JsonException ex)
        {
            throw new RetortException($"{dir}: malformed tokenizer JSON ({ex.Message})");
        }
        catch (InvalidOperationException ex)
        {
            throw new RetortException($"{dir}: malformed tokenizer JSON ({ex.Message})");
        }
    }

    /// <summary>Whether a TemplateProcessing (alone or inside a Sequence) puts a special token before the text.</summary>
    private static bool PostProcessorAddsLeadingToken(JsonElement post)
    {
        if (post.ValueKind != JsonValueKind.Object || !post.TryGetProperty("type", out var type)) return false;
        if (type.GetString() == "Sequence" && post.TryGetProperty("processors", out var list) && list.ValueKind == JsonValueKind.Array)
            return list.EnumerateArray().Any(PostProcessorAddsLeadingToken);
        return type.GetString() == "TemplateProcessing"
               && post.TryGetProperty("single", out var single) && single.ValueKind == JsonValueKind.Array
               && single.GetArrayLength() > 0 && single[0].ValueKind == JsonValueKind.Object
               && single[0].TryGetProperty("SpecialToken", out _);
    }

    /// <summary>convert_hf_to_gguf.py's does_token_look_special: such added tokens become control tokens.</summary>
    private static bool LooksSpecial(string t) =>
        t is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]"
        || (t.StartsWith("<|", StringComparison.Ordinal) && t.EndsWith("|>", StringComparison.Ordinal))
        || (t.StartsWith("<｜", StringComparison.Ordinal) && t.EndsWith("｜>", StringComparison.Ordinal))
        || (t.StartsWith("<unused", StringComparison.Ordinal) && t.EndsWith('>'));

    private static string? TokenContent(JsonElement c, string key) =>
        !c.TryGetProperty(key, out var v) ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
            ? content.GetString()
            : null;

    private static int? IntProperty(JsonElement c, string key) =>
        c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;
}
