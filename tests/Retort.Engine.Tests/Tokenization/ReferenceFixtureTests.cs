using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>Every entry Hugging Face tokenizers produced for the small fixtures must be reproduced exactly.</summary>
public sealed class ReferenceFixtureTests
{
    public static TheoryData<string, int> TokenizationCases()
    {
        var data = new TheoryData<string, int>();
        foreach (string model in TokenizerFixtures.SmallModels)
        {
            int n = TokenizerFixtures.Tokenization(model).Count;
            for (int i = 0; i < n; i++) data.Add(model, i);
        }
        return data;
    }

    public static TheoryData<string, int> ChatCases()
    {
        var data = new TheoryData<string, int>();
        foreach (string model in TokenizerFixtures.SmallModels)
        {
            int n = TokenizerFixtures.Chat(model).Count;
            for (int i = 0; i < n; i++) data.Add(model, i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TokenizationCases))]
    public void Encode_matches_reference_ids(string model, int index)
    {
        var c = TokenizerFixtures.Tokenization(model)[index];
        Assert.Equal(c.Ids, TokenizerFixtures.ForModel(model).Encode(c.Text));
    }

    [Theory]
    [MemberData(nameof(TokenizationCases))]
    public void Decode_matches_reference_text(string model, int index)
    {
        var c = TokenizerFixtures.Tokenization(model)[index];
        Assert.Equal(c.Decoded, TokenizerFixtures.ForModel(model).Decode(c.Ids));
    }

    [Theory]
    [MemberData(nameof(TokenizationCases))]
    public void Stream_decoder_pieces_concatenate_to_reference_text(string model, int index)
    {
        var c = TokenizerFixtures.Tokenization(model)[index];
        var decoder = new TokenStreamDecoder(TokenizerFixtures.ForModel(model));
        string text = string.Concat(c.Ids.Select(decoder.Push)) + decoder.Flush();
        Assert.Equal(c.Decoded, text);
    }

    [Theory]
    [MemberData(nameof(ChatCases))]
    public void Rendered_chat_text_encodes_to_reference_ids(string model, int index)
    {
        var c = TokenizerFixtures.Chat(model)[index];
        var tokenizer = TokenizerFixtures.ForModel(model);
        Assert.Equal(c.Ids, tokenizer.Encode(c.Text));
        Assert.Equal(c.Text, tokenizer.Decode(c.Ids));
    }

    [Theory]
    [MemberData(nameof(TokenizationCases))]
    public void FromVocabulary_with_gguf_style_metadata_matches_tokenizer_json(string model, int index)
    {
        var c = TokenizerFixtures.Tokenization(model)[index];
        var gguf = GgufTokenizer(model);
        Assert.Equal(c.Ids, gguf.Encode(c.Text));
        Assert.Equal(c.Decoded, gguf.Decode(c.Ids));
    }

    [Theory]
    [MemberData(nameof(ChatCases))]
    public void FromVocabulary_encodes_chat_like_tokenizer_json(string model, int index)
    {
        var c = TokenizerFixtures.Chat(model)[index];
        Assert.Equal(c.Ids, GgufTokenizer(model).Encode(c.Text));
    }

    [Theory]
    [MemberData(nameof(SmallModelNames))]
    public void Post_processor_adds_bos_only_when_asked(string model)
    {
        var tokenizer = TokenizerFixtures.ForModel(model);
        int bos = tokenizer.TokenToId("<｜begin▁of▁sentence｜>")!.Value;
        Assert.Equal(bos, tokenizer.BosTokenId);
        Assert.True(tokenizer.AddBosToken);
        int[] plain = tokenizer.Encode("Hello world");
        Assert.Equal([bos, .. plain], tokenizer.Encode("Hello world", addSpecialTokens: true));
        Assert.DoesNotContain(bos, plain);
    }

    [Theory]
    [MemberData(nameof(SmallModelNames))]
    public void Special_ids_and_properties_come_from_the_config(string model)
    {
        var tokenizer = TokenizerFixtures.ForModel(model);
        Assert.Equal(457, tokenizer.EosTokenId);
        Assert.Equal(460, tokenizer.BosTokenId);
        Assert.Contains(457, tokenizer.EosTokenIds);
        Assert.Equal(464, tokenizer.VocabSize);
        Assert.True(tokenizer.IsSpecial(457));
        Assert.False(tokenizer.IsSpecial(462)); // <think> is an added token but not special
        Assert.Equal("<think>", tokenizer.TokenText(462));
        Assert.Equal(7, tokenizer.AddedTokens.Count);
        Assert.Equal("</think>", tokenizer.Decode([463, 457], skipSpecialTokens: true));
        Assert.Equal("</think><｜end▁of▁sentence｜>", tokenizer.Decode([463, 457]));
    }

    public static TheoryData<string> SmallModelNames() => [.. TokenizerFixtures.SmallModels];

    private static readonly Dictionary<string, Tokenizer> GgufCache = [];

    private static Tokenizer GgufTokenizer(string model)
    {
        lock (GgufCache)
        {
            if (!GgufCache.TryGetValue(model, out var t))
            {
                var (tokens, types, merges) = TokenizerFixtures.GgufStyleMetadata(Retort.Tests.Support.Fixtures.Path(model, "hf", "tokenizer.json"));
                t = Tokenizer.FromVocabulary(tokens, types, merges, "qwen2", 460, 457, addBos: true);
                GgufCache[model] = t;
            }
            return t;
        }
    }
}
