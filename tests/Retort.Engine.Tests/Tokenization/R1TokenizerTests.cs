using System.Text;
using System.Text.Json;
using Retort.Tests.Support;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>
/// The real DeepSeek-R1-Distill-Qwen tokenizer. Hugging Face cannot run here, so expectations are
/// ones checkable without it: round trips, ids read from the vocabulary JSON, and the Qwen2 rules.
/// </summary>
public sealed class R1TokenizerTests
{
    private static Tokenizer R1 => TokenizerFixtures.R1;

    private static readonly Lazy<Dictionary<string, int>> Vocab = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("r1-qwen-tokenizer", "tokenizer.json")));
        return doc.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
    });

    public static TheoryData<string> RoundTripStrings() =>
    [
        "Hello world",
        "鸡兔同笼，共有35个头，94条腿，请问鸡和兔各有多少只？",
        "人工智能正在改变世界。机器学习、深度学习！",
        "family 👨‍👩‍👧‍👦 thumbs 👍🏽👍🏿 flags 🇯🇵🇺🇸 🦙",
        "   leading, inner   runs\t\tand trailing   ",
        "line one\r\nline two\rthree\n\n\n  \n\tfour",
        "1234567890 3.14159 007 ١٢٣ ٤٥",
        "def f(x):\n    return {\"a\": [1, 2, 3]} # comment\n\tif x != y: pass\n",
        "Привет, мир! Как дела?",
        "こんにちは世界、カタカナとひらがな。",
        "안녕하세요 세계",
        "I've they'll WE'RE don't it's O'Neil",
        "𠀀𠀁𠀂 𝐀𝐁𝐂 𝟏𝟐𝟑",
        "$$$ %%% ^^^ &&& <<>> ~~~ ```",
        "<｜User｜>What is 2+3?<｜Assistant｜><think>\nfive\n</think>\n\n5<｜end▁of▁sentence｜>",
        "\u00a0non\u2003breaking\u3000spaces\u200b",
        "x",
        "",
    ];

    [Theory]
    [MemberData(nameof(RoundTripStrings))]
    public void Decode_of_encode_returns_the_text(string text)
    {
        int[] ids = R1.Encode(text);
        Assert.Equal(text, R1.Decode(ids));
        Assert.All(ids, id => Assert.InRange(id, 0, R1.VocabSize - 1));
    }

    [Theory]
    [MemberData(nameof(RoundTripStrings))]
    public void Stream_decoder_reassembles_the_text(string text)
    {
        var decoder = R1.CreateStreamDecoder();
        var sb = new StringBuilder();
        foreach (int id in R1.Encode(text))
        {
            string piece = decoder.Push(id);
            Assert.DoesNotContain('\uFFFD', piece);
            sb.Append(piece);
        }
        sb.Append(decoder.Flush());
        Assert.Equal(text, sb.ToString());
    }

    [Fact]
    public void Loads_with_the_expected_vocabulary_and_special_ids()
    {
        Assert.Equal(151665, R1.VocabSize);
        Assert.Equal(151646, R1.BosTokenId);
        Assert.Equal(151643, R1.EosTokenId);
        Assert.Equal(new HashSet<int> { 151643 }, R1.EosTokenIds);
        Assert.Equal(22, R1.AddedTokens.Count);
        // tokenizer_config says add_bos_token, but transformers 5 follows tokenizer.json's empty post-processor.
        Assert.False(R1.AddBosToken);
        Assert.Equal("Ġworld", R1.TokenText(1879));
    }

    [Fact]
    public void Every_added_token_encodes_to_its_own_id()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("r1-qwen-tokenizer", "tokenizer.json")));
        foreach (var a in doc.RootElement.GetProperty("added_tokens").EnumerateArray())
        {
            string content = a.GetProperty("content").GetString()!;
            int id = a.GetProperty("id").GetInt32();
            Assert.Equal([id], R1.Encode(content));
            Assert.Equal(id, R1.TokenToId(content));
            Assert.Equal(a.GetProperty("special").GetBoolean(), R1.IsSpecial(id));
            Assert.Equal(content, R1.Decode([id]));
        }
    }

    [Fact]
    public void Chat_markers_split_the_text_and_keep_their_ids()
    {
        int[] ids = R1.Encode("<｜User｜>Hello<｜Assistant｜><think>\n");
        Assert.Equal([151644, Vocab.Value["Hello"], 151645, 151648, Vocab.Value["Ċ"]], ids);
    }

    [Fact]
    public void Known_words_map_to_their_vocabulary_ids()
    {
        var v = Vocab.Value;
        Assert.Equal(9707, v["Hello"]);
        Assert.Equal([v["Hello"], v["Ġworld"]], R1.Encode("Hello world"));
        Assert.Equal([v["Ġthe"]], R1.Encode(" the"));
        Assert.Equal([v["ĠĠĠ"], v["Ġreturn"]], R1.Encode("    return"));
    }

    [Fact]
    public void Digits_are_one_token_each()
    {
        var v = Vocab.Value;
        int[] expected = [.. "1234567890".Select(c => v[c.ToString()])];
        Assert.Equal(expected, R1.Encode("1234567890"));
        Assert.Equal([v["Ġ"], v["4"], v["2"]], R1.Encode(" 42"));
    }

    [Fact]
    public void Input_is_normalized_to_nfc_before_bpe()
    {
        Assert.Equal(R1.Encode("café"), R1.Encode("cafe\u0301"));
        Assert.Equal("café", R1.Decode(R1.Encode("cafe\u0301")));
        Assert.Equal(R1.Encode("한국"), R1.Encode("\u1112\u1161\u11AB\u1100\u116E\u11A8"));
    }

    [Fact]
    public void Add_special_tokens_adds_nothing_like_transformers_5()
    {
        int[] plain = R1.Encode("Hello world");
        Assert.Equal(plain, R1.Encode("Hello world", addSpecialTokens: true));
    }

    [Fact]
    public void Skip_special_tokens_drops_only_special_added_tokens()
    {
        int[] ids = R1.Encode("<｜begin▁of▁sentence｜><｜User｜>hi<｜end▁of▁sentence｜>");
        Assert.Equal("<｜User｜>hi", R1.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Stream_decoder_holds_back_a_character_split_across_byte_tokens()
    {
        // "😀" is F0 9F 98 80; feed it as four single-byte tokens.
        int[] byteIds = [.. "😀"u8.ToArray().Select(b => R1.TokenToId(ByteLevel.ByteToChar[b].ToString())!.Value)];
        var decoder = R1.CreateStreamDecoder();
        Assert.Equal("", decoder.Push(byteIds[0]));
        Assert.Equal("", decoder.Push(byteIds[1]));
        Assert.Equal("", decoder.Push(byteIds[2]));
        Assert.Equal("😀", decoder.Push(byteIds[3]));
        Assert.Equal("", decoder.Flush());
        Assert.Equal("😀", R1.Decode(byteIds));
    }

    [Fact]
    public void Invalid_utf8_becomes_replacement_characters_in_both_decoders()
    {
        int Byte(byte b) => R1.TokenToId(ByteLevel.ByteToChar[b].ToString())!.Value;
        // A truncated 4-byte sequence, a lone continuation byte, an unfinished tail.
        int[] ids = [Byte(0xF0), Byte(0x9F), Byte((byte)'a'), Byte(0x80), Byte((byte)'b'), Byte(0xE4), Byte(0xB8)];
        Assert.Equal("\uFFFDa\uFFFDb\uFFFD", R1.Decode(ids));
        var decoder = R1.CreateStreamDecoder();
        string streamed = string.Concat(ids.Select(decoder.Push)) + decoder.Flush();
        Assert.Equal(R1.Decode(ids), streamed);
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_skipped_when_decoding()
    {
        // The model's embedding has 151936 rows; the padding ids have no token.
        Assert.Equal("Hello", R1.Decode([9707, 151900]));
        Assert.Equal("", R1.TokenText(151900));
    }

    [Fact]
    public void FromVocabulary_matches_tokenizer_json_on_the_real_vocabulary()
    {
        var (tokens, types, merges) = TokenizerFixtures.GgufStyleMetadata(Fixtures.Path("r1-qwen-tokenizer", "tokenizer.json"));
        var gguf = Tokenizer.FromVocabulary(tokens, types, merges, "deepseek-r1-qwen", 151646, 151643, addBos: false, extraEosIds: [151647]);
        foreach (string text in RoundTripStrings())
        {
            Assert.Equal(R1.Encode(text), gguf.Encode(text));
            Assert.Equal(R1.Encode(text, addSpecialTokens: true), gguf.Encode(text, addSpecialTokens: true));
        }
        Assert.Equal(new HashSet<int> { 151643, 151647 }, gguf.EosTokenIds);
        Assert.Equal(R1.VocabSize, gguf.VocabSize);
    }

    [Fact]
    public void Long_text_encodes_and_round_trips()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 2000; i++) sb.Append("The quick brown fox 狐狸 jumps over 13 lazy dogs! 🐕\n");
        string text = sb.ToString();
        int[] ids = R1.Encode(text);
        Assert.True(ids.Length < text.Length);
        Assert.Equal(text, R1.Decode(ids));
    }
}
