using System.Text.Json;
using Retort.Engine.IO;

namespace Retort.Engine.Tokenization;

/// <summary>
/// Reads Hugging Face tokenizer.json (+ tokenizer_config.json) into a <see cref="Tokenizer"/>. The file
/// is untrusted: every value is checked where it is read, and an error names the file, the JSON path
/// (<c>added_tokens[3].id</c>), what was expected and what was found.
/// </summary>
internal static class TokenizerJsonLoader
{
    /// <summary>Largest tokenizer file read: the biggest real ones (Gemma, Llama 4) are about 35 MB.</summary>
    internal const long MaxFileBytes = 256L << 20;

    /// <summary>
    /// Unused ids allowed among a tokenizer's ids: real ones have a few (GPT-4's cl100k skips 100256
    /// and 100261–100275), while an id table sized by the largest id must stay in proportion to the file.
    /// </summary>
    internal const int IdSlack = 1024;

    /// <summary>Longest added token: real ones are a few dozen characters; it bounds each step of matching them.</summary>
    internal const int MaxAddedTokenLength = 1024;

    private const int MaxJsonDepth = 256;

    public static Tokenizer Load(string jsonPath, string? configPath, IReadOnlyList<int>? extraEosIds = null)
    {
        if (!File.Exists(jsonPath)) throw new RetortException($"tokenizer file not found: '{jsonPath}'");
        if (configPath != null && !File.Exists(configPath)) throw new RetortException($"tokenizer config not found: '{configPath}'");
        using JsonDocument doc = Parse(jsonPath);
        using JsonDocument? config = configPath != null ? Parse(configPath) : null;
        try
        {
            return Build(new JsonAt(doc.RootElement, jsonPath, ""),
                config is null ? null : new JsonAt(config.RootElement, configPath!, ""), extraEosIds ?? []);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException
                                      or InvalidCastException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            // Every value is checked as it is read; this is the net under a check someone forgot.
            throw new RetortException($"malformed tokenizer '{jsonPath}': {MessageText.OneLine(e.Message)}", e);
        }
    }

    /// <summary>Parses a JSON file of bounded size; a syntax error names the file, line and column.</summary>
    internal static JsonDocument Parse(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            if (stream.Length > MaxFileBytes)
                throw new RetortException($"'{path}': expected a file of at most {MaxFileBytes >> 20} MiB, found {stream.Length} bytes");
            return JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
        }
        catch (JsonException e)
        {
            throw new RetortException(
                $"'{path}': not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {MessageText.OneLine(e.Message.Split('\n')[0])}", e);
        }
        catch (IOException e)
        {
            throw new RetortException($"cannot read '{path}': {MessageText.OneLine(e.Message)}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new RetortException($"cannot read '{path}': {MessageText.OneLine(e.Message)}", e);
        }
    }

    private static Tokenizer Build(JsonAt root, JsonAt? config, IReadOnlyList<int> extraEosIds)
    {
        string origin = $"'{root.File}'";
        root.RequireObject();
        var model = root["model"].RequireObject();
        var typeAt = model["type"];
        string type = typeAt.OptionalString() ?? "BPE";
        if (type != "BPE") throw typeAt.Problem($"tokenizer model '{type}' is not supported: expected BPE");
        if (model["byte_fallback"].Bool())
            throw model["byte_fallback"].Problem("byte_fallback BPE (SentencePiece style) is not supported");
        foreach (string affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (model[affix].OptionalString() is { Length: > 0 } a)
                throw model[affix].Problem($"BPE {affix} '{a}' is not supported");
        }

        // Ids count up over the vocabulary and the added tokens; nothing is sized by an id before
        // every id is known to lie below what the file can mean.
        var vocabJson = model["vocab"].RequireObject();
        var addedJson = root["added_tokens"];
        long entries = (long)vocabJson.MemberCount() + (addedJson.IsAbsent ? 0 : addedJson.ArrayLength());
        if (entries > Tokenizer.MaxVocabularySize)
            throw vocabJson.Problem($"expected at most {Tokenizer.MaxVocabularySize} vocabulary entries and added tokens, found {entries}");
        int idLimit = (int)Math.Min(entries + IdSlack, Tokenizer.MaxVocabularySize);
        int TokenId(JsonAt v) =>
            v.Kind == JsonValueKind.Number && v.Value.TryGetInt64(out long id) && id >= 0 && id < idLimit
                ? (int)id
                : throw v.Error($"a token id in 0..{idLimit - 1} (the file has {entries} vocabulary entries and added tokens, and may leave up to {IdSlack} ids unused)");

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in vocabJson.Members()) vocab[token] = TokenId(id);

        var merges = new List<(string, string)>();
        var mergesJson = model["merges"];
        if (!mergesJson.IsAbsent)
        {
            foreach (var m in mergesJson.Items())
            {
                if (m.Kind == JsonValueKind.String)
                {
                    string s = m.String();
                    int space = s.IndexOf(' ');
                    if (space <= 0 || space == s.Length - 1) throw m.Error("two tokens separated by a space");
                    merges.Add((s[..space], s[(space + 1)..]));
                }
                else if (m.Kind == JsonValueKind.Array && m.ArrayLength() == 2)
                {
                    merges.Add((NonEmpty(m[0]), NonEmpty(m[1])));
                }
                else throw m.Error("a merge: \"left right\" or [\"left\", \"right\"]");
            }
        }
        bool ignoreMerges = model["ignore_merges"].Bool();

        var added = new List<AddedToken>();
        if (!addedJson.IsAbsent)
        {
            var byId = new Dictionary<int, (AddedToken Token, string Path)>();
            var byContent = new Dictionary<string, (AddedToken Token, string Path)>(StringComparer.Ordinal);
            foreach (var a in addedJson.Items())
            {
                a.RequireObject();
                var contentAt = a["content"];
                string content = NonEmpty(contentAt);
                if (content.Length > MaxAddedTokenLength)
                    throw contentAt.Problem($"expected an added token of at most {MaxAddedTokenLength} characters, found {content.Length}");
                int id = TokenId(a["id"]);
                bool special = a["special"].Bool();
                var token = new AddedToken(content, id, special, a["lstrip"].Bool(), a["rstrip"].Bool(), a["single_word"].Bool(),
                    // tokenizers' default: normalized unless special.
                    a["normalized"].Bool(absent: !special));
                if (byId.TryGetValue(id, out var sameId))
                {
                    if (sameId.Token.Content != content)
                        throw a["id"].Problem(
                            $"expected each added token id once, found id {id} again with content {MessageText.Quote(content)} ({sameId.Path} has it with {MessageText.Quote(sameId.Token.Content)})");
                    continue; // the same token listed twice
                }
                if (byContent.TryGetValue(content, out var sameContent))
                    throw contentAt.Problem(
                        $"expected each added token's content once, found {MessageText.Quote(content)} again with id {id} ({sameContent.Path} has it with id {sameContent.Token.Id})");
                byId.Add(id, (token, a.Path));
                byContent.Add(content, (token, a.Path));
                added.Add(token);
            }
        }

        bool nfc = ReadNormalizer(root["normalizer"]);
        var splitters = new List<ISplitter>();
        bool addPrefixSpace = false;
        ReadPreTokenizer(root["pre_tokenizer"], splitters, ref addPrefixSpace);

        int maxId = -1;
        foreach (int id in vocab.Values) maxId = Math.Max(maxId, id);
        foreach (var a in added) maxId = Math.Max(maxId, a.Id);
        var prefix = new List<int>();
        var suffix = new List<int>();
        ReadPostProcessor(root["post_processor"], maxId + 1, prefix, suffix);

        int? Lookup(string content)
        {
            foreach (var a in added)
            {
                if (a.Content == content) return a.Id;
            }
            return vocab.TryGetValue(content, out int id) ? id : null;
        }

        int? bosId = null, eosId = null;
        if (config is JsonAt c)
        {
            c.RequireObject();
            bosId = ConfigTokenId(Lookup, c["bos_token"], root.File);
            eosId = ConfigTokenId(Lookup, c["eos_token"], root.File);
            // tokenizer.json's post_processor alone decides what Encode(addSpecialTokens: true) adds:
            // transformers 5 no longer rebuilds it from tokenizer_config's add_bos_token (checked against
            // transformers 5.17 on the R1 tokenizer, whose config says add_bos_token but which adds nothing).
        }
        if (eosId is null && extraEosIds.Count > 0) eosId = extraEosIds[0];
        return new Tokenizer(vocab, merges, ignoreMerges, added, nfc, splitters, addPrefixSpace, [.. prefix], [.. suffix],
            bosId, eosId, extraEosIds, origin);
    }

    private static string NonEmpty(JsonAt v) =>
        v.Kind == JsonValueKind.String && v.Value.GetString() is { Length: > 0 } s ? s : throw v.Error("a non-empty string");

    /// <summary>
    /// generation_config.json's eos_token_id (a number or a list: Llama 3 Instruct stops on several),
    /// or nothing when the file is absent.
    /// </summary>
    public static IReadOnlyList<int> ReadGenerationEos(string path)
    {
        if (!File.Exists(path)) return [];
        using var doc = Parse(path);
        var eos = new JsonAt(doc.RootElement, path, "").RequireObject()["eos_token_id"];
        const string what = "an EOS token id";
        return eos.Kind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null => [],
            JsonValueKind.Array => [.. eos.Items().Select(x => x.Int(0, Tokenizer.MaxVocabularySize - 1, what))],
            _ => [eos.Int(0, Tokenizer.MaxVocabularySize - 1, what)],
        };
    }

    private static int? ConfigTokenId(Func<string, int?> lookup, JsonAt v, string tokenizerPath)
    {
        string? content = v.Kind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null => null,
            JsonValueKind.String => v.String(),
            JsonValueKind.Object => v["content"].String(),
            _ => throw v.Error("a token string or an object with a \"content\" string"),
        };
        if (content is null) return null;
        return lookup(content) ?? throw v.Problem($"token {MessageText.Quote(content)} is not in the vocabulary of '{tokenizerPath}'");
    }

    private static bool ReadNormalizer(JsonAt n)
    {
        if (n.IsAbsent) return false;
        n.RequireObject();
        string type = n["type"].String();
        switch (type)
        {
            case "NFC":
                return true;
            case "Sequence":
                bool nfc = false;
                foreach (var inner in n["normalizers"].Items()) nfc |= ReadNormalizer(inner);
                return nfc;
            default:
                throw n["type"].Problem($"tokenizer normalizer '{type}' is not supported: expected NFC, a Sequence of them, or none");
        }
    }

    private static void ReadPreTokenizer(JsonAt p, List<ISplitter> splitters, ref bool addPrefixSpace)
    {
        if (p.IsAbsent) return;
        p.RequireObject();
        string type = p["type"].String();
        switch (type)
        {
            case "Sequence":
                foreach (var inner in p["pretokenizers"].Items()) ReadPreTokenizer(inner, splitters, ref addPrefixSpace);
                break;
            case "ByteLevel":
                addPrefixSpace |= p["add_prefix_space"].Bool();
                // use_regex defaults to true: ByteLevel then splits with the GPT-2 pattern itself.
                if (p["use_regex"].Bool(absent: true)) splitters.Add(new PatternSplitter(PretokenizerPattern.Gpt2));
                break;
            case "Split":
                string behavior = p["behavior"].OptionalString() ?? "Isolated";
                bool invert = p["invert"].Bool();
                if (behavior != "Isolated" || invert)
                    throw p.Problem($"Split pre-tokenizer with behavior {behavior}, invert {invert} is not supported: expected Isolated, not inverted");
                var pattern = p["pattern"].RequireObject();
                string origin = $"'{p.File}': pre_tokenizer Split pattern";
                if (!pattern["Regex"].IsAbsent)
                {
                    var rx = pattern["Regex"];
                    string regex = rx.String();
                    // The patterns of the tokenizers this engine knows keep their hand-written, linear splitter.
                    splitters.Add(PatternSplitter.Recognize(regex) is PretokenizerPattern known
                        ? new PatternSplitter(known)
                        : RegexSplitter.FromPattern(regex, origin, rx.Path));
                }
                else
                {
                    var literal = pattern["String"];
                    if (literal.IsAbsent) throw pattern.Error("an object with a \"Regex\" or a \"String\" pattern");
                    splitters.Add(RegexSplitter.FromLiteral(literal.String(), origin));
                }
                break;
            default:
                throw p["type"].Problem($"tokenizer pre-tokenizer '{type}' is not supported: expected Split, ByteLevel or Sequence");
        }
    }

    private static void ReadPostProcessor(JsonAt p, int vocabSize, List<int> prefix, List<int> suffix)
    {
        if (p.IsAbsent) return;
        p.RequireObject();
        string type = p["type"].String();
        switch (type)
        {
            case "ByteLevel":
                return; // only adjusts offsets
            case "Sequence":
                foreach (var inner in p["processors"].Items()) ReadPostProcessor(inner, vocabSize, prefix, suffix);
                return;
            case "TemplateProcessing":
                var specials = p["special_tokens"].RequireObject();
                bool seenSequence = false;
                foreach (var item in p["single"].Items())
                {
                    item.RequireObject();
                    if (!item["Sequence"].IsAbsent)
                    {
                        seenSequence = true;
                        continue;
                    }
                    var nameAt = item["SpecialToken"].RequireObject()["id"];
                    string name = nameAt.String();
                    var st = specials[name];
                    if (st.IsAbsent) throw nameAt.Problem($"special token {MessageText.Quote(name)} is not in post_processor.special_tokens");
                    foreach (var id in st.RequireObject()["ids"].Items())
                        (seenSequence ? suffix : prefix).Add(id.Int(0, vocabSize - 1, "a token id of the vocabulary"));
                }
                return;
            default:
                throw p["type"].Problem($"tokenizer post-processor '{type}' is not supported: expected TemplateProcessing, ByteLevel or Sequence");
        }
    }
}
