using System.Collections.Frozen;
using System.Text;

namespace Retort.Engine.Tokenization;

/// <summary>
/// Byte-level BPE tokenizer matching Hugging Face <c>tokenizers</c> for Qwen2 / DeepSeek-R1-Distill
/// and Llama 3 models: added tokens matched whole first, then NFC (Qwen2), the split regex, the
/// GPT-2 byte mapping and rank-ordered merges. Instances are immutable and thread-safe.
/// </summary>
public sealed class Tokenizer
{
    /// <summary>
    /// Ids (and so vocabulary entries) a tokenizer may have: 2^24, 64 times the largest real
    /// vocabulary (Gemma's 262,144), and what an id table of 8-byte references may cost (128 MiB).
    /// </summary>
    internal const int MaxVocabularySize = 1 << 24;

    private readonly Dictionary<string, int> _vocab;
    private readonly string?[] _idToToken;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly Dictionary<string, AddedToken> _addedByContent;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;
    private readonly bool _nfc;
    private readonly ISplitter[] _splitters;
    private readonly bool _addPrefixSpace;
    private readonly BpeModel _bpe;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;

    internal Tokenizer(
        Dictionary<string, int> vocab,
        IEnumerable<(string Left, string Right)> merges,
        bool ignoreMerges,
        IReadOnlyList<AddedToken> addedTokens,
        bool nfc,
        IReadOnlyList<ISplitter> splitters,
        bool addPrefixSpace,
        int[] prefixIds,
        int[] suffixIds,
        int? bosId,
        int? eosId,
        IEnumerable<int>? extraEosIds,
        string origin)
    {
        _vocab = vocab;
        _bpe = new BpeModel(vocab, merges, ignoreMerges);
        _addedById = [];
        _addedByContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        foreach (var t in addedTokens)
        {
            _addedById[t.Id] = t;
            _addedByContent[t.Content] = t;
        }
        AddedTokens = [.. addedTokens.OrderBy(t => t.Id)];
        _rawMatcher = new AddedTokenMatcher(addedTokens.Where(t => !t.Normalized), origin);
        _normalizedMatcher = new AddedTokenMatcher(addedTokens.Where(t => t.Normalized), origin);
        _nfc = nfc;
        _splitters = [.. splitters];
        _addPrefixSpace = addPrefixSpace;
        _prefixIds = prefixIds;
        _suffixIds = suffixIds;

        // The loaders check every id against the entries their file holds; this is the last line.
        int maxId = -1;
        foreach (int id in vocab.Values) maxId = Math.Max(maxId, id);
        foreach (var t in addedTokens) maxId = Math.Max(maxId, t.Id);
        if (maxId >= MaxVocabularySize)
            throw new RetortException($"{origin}: token id {maxId} is above the {MaxVocabularySize - 1} a tokenizer may use");
        VocabSize = maxId + 1;
        _idToToken = new string?[VocabSize];
        foreach (var (token, id) in vocab)
        {
            if (id >= 0) _idToToken[id] ??= token;
        }
        foreach (var t in addedTokens) _idToToken[t.Id] = t.Content;

        BosTokenId = bosId;
        EosTokenId = eosId;
        var eos = new HashSet<int>();
        if (eosId is int e) eos.Add(e);
        if (extraEosIds != null) eos.UnionWith(extraEosIds);
        EosTokenIds = eos.ToFrozenSet();
        AddBosToken = bosId is int b && prefixIds.Contains(b);
    }

    /// <summary>One more than the largest id in the vocabulary and the added tokens.</summary>
    public int VocabSize { get; }

    public int? BosTokenId { get; }

    public int? EosTokenId { get; }

    /// <summary>Every id that ends generation: the EOS token and any extra ones given.</summary>
    public IReadOnlySet<int> EosTokenIds { get; }

    /// <summary>Whether <c>Encode(text, addSpecialTokens: true)</c> starts with the BOS token.</summary>
    public bool AddBosToken { get; }

    /// <summary>The added tokens, by id.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>The ids <c>addSpecialTokens: true</c> puts before the text.</summary>
    public IReadOnlyList<int> SpecialPrefixIds => _prefixIds;

    /// <summary>The ids <c>addSpecialTokens: true</c> puts after the text.</summary>
    public IReadOnlyList<int> SpecialSuffixIds => _suffixIds;

    /// <summary>Loads a Hugging Face tokenizer.json, with tokenizer_config.json for BOS/EOS and add_bos_token.</summary>
    public static Tokenizer FromTokenizerJson(string tokenizerJsonPath, string? tokenizerConfigPath = null) =>
        TokenizerJsonLoader.Load(tokenizerJsonPath, tokenizerConfigPath);

    /// <summary>
    /// Loads tokenizer.json and, when present, tokenizer_config.json from a Hugging Face model folder;
    /// generation_config.json's eos_token_id values join <see cref="EosTokenIds"/>.
    /// </summary>
    public static Tokenizer FromHfFolder(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        string json = Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(json))
            throw new RetortException($"tokenizer not found: expected tokenizer.json in model folder '{dir}'");
        string config = Path.Combine(dir, "tokenizer_config.json");
        var generationEos = TokenizerJsonLoader.ReadGenerationEos(Path.Combine(dir, "generation_config.json"));
        return TokenizerJsonLoader.Load(json, File.Exists(config) ? config : null, generationEos);
    }

    /// <summary>
    /// Builds a tokenizer from GGUF-style metadata (tokenizer.ggml.tokens / token_type / merges / pre).
    /// Token types 3 (control) and 4 (user-defined) are added tokens, matched whole; control ones are special.
    /// </summary>
    public static Tokenizer FromVocabulary(
        IReadOnlyList<string> tokens,
        IReadOnlyList<int>? tokenTypes,
        IReadOnlyList<string> merges,
        string preTokenizerName,
        int? bosId,
        int? eosId,
        bool addBos,
        IReadOnlyList<int>? extraEosIds = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(preTokenizerName);
        if (tokenTypes != null && tokenTypes.Count != tokens.Count)
            throw new RetortException($"tokenizer metadata: {tokens.Count} tokens but {tokenTypes.Count} token types");
        if (tokens.Count > MaxVocabularySize)
            throw new RetortException($"tokenizer metadata: expected at most {MaxVocabularySize} tokens, found {tokens.Count}");
        foreach (var (name, id) in new[] { ("BOS", bosId), ("EOS", eosId) })
        {
            if (id is int v && (v < 0 || v >= tokens.Count))
                throw new RetortException($"tokenizer metadata: expected the {name} token id in 0..{tokens.Count - 1}, found {v}");
        }

        (PretokenizerPattern pattern, bool nfc, bool ignoreMerges) = preTokenizerName switch
        {
            // Hugging Face normalizes Qwen2 input to NFC; llama.cpp does not, but matching HF matters more.
            "qwen2" or "deepseek-r1-qwen" => (PretokenizerPattern.Qwen2, true, false),
            // Llama 3's tokenizer.json sets ignore_merges: whole-word vocabulary hits skip BPE.
            "llama-bpe" or "llama3" => (PretokenizerPattern.Llama3, false, true),
            "default" or "gpt2" => (PretokenizerPattern.Gpt2, false, false),
            _ => throw new RetortException(
                $"unsupported tokenizer pre-tokenizer '{preTokenizerName}': expected qwen2, deepseek-r1-qwen, llama-bpe, llama3, gpt2 or default"),
        };

        var vocab = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        var added = new List<AddedToken>();
        for (int id = 0; id < tokens.Count; id++)
        {
            int type = tokenTypes?[id] ?? 1;
            if (type is 3 or 4 && tokens[id].Length > 0)
                added.Add(new AddedToken(tokens[id], id, Special: type == 3));
            else
                vocab.TryAdd(tokens[id], id);
        }

        var mergePairs = new List<(string, string)>(merges.Count);
        foreach (string m in merges)
        {
            int space = m.IndexOf(' ');
            if (space <= 0 || space == m.Length - 1)
                throw new RetortException($"tokenizer metadata: merge '{m}' is not two tokens separated by a space");
            mergePairs.Add((m[..space], m[(space + 1)..]));
        }

        int[] prefix = addBos && bosId is int b ? [b] : [];
        return new Tokenizer(vocab, mergePairs, ignoreMerges, added, nfc, [new PatternSplitter(pattern)],
            addPrefixSpace: false, prefix, [], bosId, eosId, extraEosIds, "tokenizer metadata");
    }

    /// <summary>
    /// Token ids of <paramref name="text"/>. Added tokens in the text (e.g. "&lt;｜User｜&gt;") become
    /// their ids; <paramref name="addSpecialTokens"/> adds the post-processor's tokens (BOS for R1).
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens) ids.AddRange(_prefixIds);

        var parts = new List<(AddedToken? Token, int Start, int Length)>();
        // One deadline for the whole call: a slow pattern cannot multiply it over many segments.
        long deadline = RegexSplitter.DeadlineFor(text.Length);
        _rawMatcher.Split(text, parts, deadline);
        var normalizedParts = new List<(AddedToken? Token, int Start, int Length)>();
        var pieces = new List<(int Start, int Length)>();
        foreach (var (token, start, length) in parts)
        {
            if (token != null)
            {
                ids.Add(token.Id);
                continue;
            }
            string segment = text.Substring(start, length);
            if (_nfc) segment = Nfc.Normalize(segment);
            if (_normalizedMatcher.IsEmpty)
            {
                EncodeSegment(segment, ids, pieces, deadline);
                continue;
            }
            normalizedParts.Clear();
            _normalizedMatcher.Split(segment, normalizedParts, deadline);
            foreach (var (t2, s2, l2) in normalizedParts)
            {
                if (t2 != null) ids.Add(t2.Id);
                else EncodeSegment(segment.Substring(s2, l2), ids, pieces, deadline);
            }
        }

        if (addSpecialTokens) ids.AddRange(_suffixIds);
        return [.. ids];
    }

    private void EncodeSegment(string segment, List<int> ids, List<(int Start, int Length)> pieces, long deadline)
    {
        if (segment.Length == 0) return;
        if (_addPrefixSpace && segment[0] != ' ') segment = " " + segment;
        pieces.Clear();
        pieces.Add((0, segment.Length));
        var next = new List<(int Start, int Length)>();
        foreach (var splitter in _splitters)
        {
            next.Clear();
            foreach (var (s, l) in pieces) splitter.Split(segment, s, l, next, deadline);
            pieces.Clear();
            pieces.AddRange(next);
        }
        foreach (var (s, l) in pieces)
        {
            if (l > 0) _bpe.Encode(ByteLevel.Encode(segment.AsSpan(s, l)), ids);
        }
    }

    /// <summary>
    /// Text of <paramref name="ids"/> as Hugging Face decodes it: token bytes joined, invalid UTF-8
    /// replaced by U+FFFD; added tokens appear as their content; ids outside the vocabulary are skipped.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids) AppendBytes(id, skipSpecialTokens, bytes);
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>A decoder that turns ids into text one at a time, for streaming generation.</summary>
    public TokenStreamDecoder CreateStreamDecoder(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    internal void AppendBytes(int id, bool skipSpecialTokens, List<byte> output)
    {
        if (id < 0 || id >= _idToToken.Length) return;
        string? token = _idToToken[id];
        if (token is null) return;
        if (skipSpecialTokens && IsSpecial(id)) return;
        ByteLevel.AppendTokenBytes(token, output);
    }

    /// <summary>The token's string as stored (byte-level form such as "Ġworld", or an added token's content); empty for unknown ids.</summary>
    public string TokenText(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] ?? string.Empty : string.Empty;

    /// <summary>Whether the id is an added token marked special (skipped by skipSpecialTokens).</summary>
    public bool IsSpecial(int id) => _addedById.TryGetValue(id, out var t) && t.Special;

    /// <summary>The id of a token given in its stored form (added token content or byte-level vocabulary string).</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_addedByContent.TryGetValue(token, out var t)) return t.Id;
        return _vocab.TryGetValue(token, out int id) ? id : null;
    }
}
