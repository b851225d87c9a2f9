using System.Text.Json;
using System.Text.RegularExpressions;

namespace Retort.Engine.Tokenization;

/// <summary>Reads Hugging Face tokenizer.json (+ tokenizer_config.json) into a <see cref="Tokenizer"/>.</summary>
internal static class TokenizerJsonLoader
{
    public static Tokenizer Load(string jsonPath, string? configPath, IReadOnlyList<int>? extraEosIds = null)
    {
        if (!File.Exists(jsonPath)) throw new RetortException($"tokenizer file not found: '{jsonPath}'");
        try
        {
            using var stream = File.OpenRead(jsonPath);
            using var doc = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
            JsonDocument? config = null;
            if (configPath != null)
            {
                if (!File.Exists(configPath)) throw new RetortException($"tokenizer config not found: '{configPath}'");
                using var cs = File.OpenRead(configPath);
                config = JsonDocument.Parse(cs);
            }
            using (config)
            {
                return Build(jsonPath, doc.RootElement, config?.RootElement, extraEosIds ?? []);
            }
        }
        catch (JsonException e)
        {
            throw new RetortException($"malformed tokenizer JSON '{configPath ?? jsonPath}' in folder '{Path.GetDirectoryName(Path.GetFullPath(jsonPath))}': {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // JsonElement accessors throw this when a value has an unexpected kind.
            throw new RetortException($"malformed tokenizer '{jsonPath}' in folder '{Path.GetDirectoryName(Path.GetFullPath(jsonPath))}': {e.Message}", e);
        }
    }

    private static Tokenizer Build(string path, JsonElement root, JsonElement? config, IReadOnlyList<int> extraEosIds)
    {
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new RetortException($"malformed tokenizer '{path}': no \"model\" object");
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "BPE";
        if (type != "BPE") throw new RetortException($"unsupported tokenizer model '{type}' in '{path}': expected BPE");
        if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
            throw new RetortException($"unsupported tokenizer '{path}': byte_fallback BPE (SentencePiece style) is not supported");
        foreach (string affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (model.TryGetProperty(affix, out var a) && a.ValueKind == JsonValueKind.String && a.GetString()!.Length > 0)
                throw new RetortException($"unsupported tokenizer '{path}': BPE {affix} '{a.GetString()}' is not supported");
        }
        if (!model.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object)
            throw new RetortException($"malformed tokenizer '{path}': model has no \"vocab\" object");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocabJson.EnumerateObject()) vocab[p.Name] = p.Value.GetInt32();

        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out var mergesJson))
        {
            foreach (var m in mergesJson.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.String)
                {
                    string s = m.GetString()!;
                    int space = s.IndexOf(' ');
                    if (space <= 0) throw new RetortException($"malformed tokenizer '{path}': merge '{s}' is not two tokens separated by a space");
                    merges.Add((s[..space], s[(space + 1)..]));
                }
                else
                {
                    if (m.GetArrayLength() != 2) throw new RetortException($"malformed tokenizer '{path}': a merge is not a pair");
                    merges.Add((m[0].GetString()!, m[1].GetString()!));
                }
            }
        }
        bool ignoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True;

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in addedJson.EnumerateArray())
            {
                added.Add(new AddedToken(
                    a.GetProperty("content").GetString()!,
                    a.GetProperty("id").GetInt32(),
                    Bool(a, "special"),
                    Bool(a, "lstrip"),
                    Bool(a, "rstrip"),
                    Bool(a, "single_word"),
                    // tokenizers' default: normalized unless special.
                    a.TryGetProperty("normalized", out var n) ? n.ValueKind == JsonValueKind.True : !Bool(a, "special")));
            }
        }

        bool nfc = ReadNormalizer(path, root.TryGetProperty("normalizer", out var norm) ? norm : default);
        var splitters = new List<ISplitter>();
        bool addPrefixSpace = false;
        if (root.TryGetProperty("pre_tokenizer", out var pre)) ReadPreTokenizer(path, pre, splitters, ref addPrefixSpace);

        var prefix = new List<int>();
        var suffix = new List<int>();
        if (root.TryGetProperty("post_processor", out var post)) ReadPostProcessor(path, post, prefix, suffix);

        int? Lookup(string content)
        {
            foreach (var a in added)
            {
                if (a.Content == content) return a.Id;
            }
            return vocab.TryGetValue(content, out int id) ? id : null;
        }

        int? bosId = null, eosId = null;
        if (config is JsonElement c)
        {
            bosId = TokenId(Lookup, c, "bos_token", path);
            eosId = TokenId(Lookup, c, "eos_token", path);
            // tokenizer.json's post_processor alone decides what Encode(addSpecialTokens: true) adds:
            // transformers 5 no longer rebuilds it from tokenizer_config's add_bos_token (checked against
            // transformers 5.17 on the R1 tokenizer, whose config says add_bos_token but which adds nothing).
        }
        if (eosId is null && extraEosIds.Count > 0) eosId = extraEosIds[0];
        return new Tokenizer(vocab, merges, ignoreMerges, added, nfc, splitters, addPrefixSpace, [.. prefix], [.. suffix], bosId, eosId, extraEosIds);
    }

    /// <summary>
    /// generation_config.json's eos_token_id (a number or a list: Llama 3 Instruct stops on several),
    /// or nothing when the file is absent.
    /// </summary>
    public static IReadOnlyList<int> ReadGenerationEos(string path)
    {
        if (!File.Exists(path)) return [];
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (!doc.RootElement.TryGetProperty("eos_token_id", out var e)) return [];
            return e.ValueKind switch
            {
                JsonValueKind.Number => [e.GetInt32()],
                JsonValueKind.Array => [.. e.EnumerateArray().Select(x => x.GetInt32())],
                _ => [],
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new RetortException($"malformed generation config '{path}': eos_token_id must be a number or a list of numbers ({ex.Message})", ex);
        }
    }

    private static bool Bool(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static int? TokenId(Func<string, int?> lookup, JsonElement config, string name, string path)
    {
        if (!config.TryGetProperty(name, out var v)) return null;
        string? content = v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var cc) => cc.GetString(),
            _ => null,
        };
        if (content is null) return null;
        return lookup(content)
            ?? throw new RetortException($"tokenizer config for '{path}': {name} '{content}' is not in the vocabulary");
    }

    private static bool ReadNormalizer(string path, JsonElement n)
    {
        if (n.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return false;
        string type = n.GetProperty("type").GetString()!;
        switch (type)
        {
            case "NFC":
                return true;
            case "Sequence":
                bool nfc = false;
                foreach (var inner in n.GetProperty("normalizers").EnumerateArray()) nfc |= ReadNormalizer(path, inner);
                return nfc;
            default:
                throw new RetortException($"unsupported tokenizer normalizer '{type}' in '{path}': expected NFC or none");
        }
    }

    private static void ReadPreTokenizer(string path, JsonElement p, List<ISplitter> splitters, ref bool addPrefixSpace)
    {
        if (p.ValueKind == JsonValueKind.Null) return;
        string type = p.GetProperty("type").GetString()!;
        switch (type)
        {
            case "Sequence":
                foreach (var inner in p.GetProperty("pretokenizers").EnumerateArray()) ReadPreTokenizer(path, inner, splitters, ref addPrefixSpace);
                break;
            case "ByteLevel":
                addPrefixSpace |= Bool(p, "add_prefix_space");
                // use_regex defaults to true: ByteLevel then splits with the GPT-2 pattern itself.
                bool useRegex = !p.TryGetProperty("use_regex", out var ur) || ur.ValueKind == JsonValueKind.True;
                if (useRegex) splitters.Add(new PatternSplitter(PretokenizerPattern.Gpt2));
                break;
            case "Split":
                string behavior = p.TryGetProperty("behavior", out var b) ? b.GetString()! : "Isolated";
                if (behavior != "Isolated" || Bool(p, "invert"))
                    throw new RetortException($"unsupported Split pre-tokenizer in '{path}': behavior {behavior}, invert {Bool(p, "invert")}; expected Isolated, not inverted");
                var pattern = p.GetProperty("pattern");
                if (pattern.TryGetProperty("Regex", out var rx))
                {
                    string regex = rx.GetString()!;
                    splitters.Add(PatternSplitter.Recognize(regex) is PretokenizerPattern known
                        ? new PatternSplitter(known)
                        : new RegexSplitter(new Regex(regex, RegexOptions.CultureInvariant)));
                }
                else
                {
                    string literal = pattern.GetProperty("String").GetString()!;
                    splitters.Add(new RegexSplitter(new Regex(Regex.Escape(literal), RegexOptions.CultureInvariant)));
                }
                break;
            default:
                throw new RetortException($"unsupported tokenizer pre-tokenizer '{type}' in '{path}': expected Split, ByteLevel or Sequence");
        }
    }

    private static void ReadPostProcessor(string path, JsonElement p, List<int> prefix, List<int> suffix)
    {
        if (p.ValueKind == JsonValueKind.Null) return;
        string type = p.GetProperty("type").GetString()!;
        switch (type)
        {
            case "ByteLevel":
                return; // only adjusts offsets
            case "Sequence":
                foreach (var inner in p.GetProperty("processors").EnumerateArray()) ReadPostProcessor(path, inner, prefix, suffix);
                return;
            case "TemplateProcessing":
                var specials = p.GetProperty("special_tokens");
                bool seenSequence = false;
                foreach (var item in p.GetProperty("single").EnumerateArray())
                {
                    if (item.TryGetProperty("Sequence", out _))
                    {
                        seenSequence = true;
                        continue;
                    }
                    string name = item.GetProperty("SpecialToken").GetProperty("id").GetString()!;
                    if (!specials.TryGetProperty(name, out var st))
                        throw new RetortException($"malformed tokenizer '{path}': post-processor special token '{name}' has no ids");
                    foreach (var id in st.GetProperty("ids").EnumerateArray()) (seenSequence ? suffix : prefix).Add(id.GetInt32());
                }
                return;
            default:
                throw new RetortException($"unsupported tokenizer post-processor '{type}' in '{path}': expected TemplateProcessing, ByteLevel or Sequence");
        }
    }
}
