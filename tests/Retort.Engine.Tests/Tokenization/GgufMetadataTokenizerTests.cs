using Retort.Tests.Support;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>FromVocabulary fed with the tokenizer metadata llama.cpp wrote into the fixture GGUF.</summary>
public sealed class GgufMetadataTokenizerTests
{
    private static readonly Lazy<Tokenizer> Micro = new(() =>
    {
        var kv = GgufTokenizerMetadata.Read(Fixtures.Path("qwen2-micro", "gguf", "qwen2-micro-f32.gguf"));
        var tokens = ((List<object>)kv["tokenizer.ggml.tokens"]).Cast<string>().ToList();
        var types = ((List<object>)kv["tokenizer.ggml.token_type"]).Select(Convert.ToInt32).ToList();
        var merges = ((List<object>)kv["tokenizer.ggml.merges"]).Cast<string>().ToList();
        return Tokenizer.FromVocabulary(tokens, types, merges, (string)kv["tokenizer.ggml.pre"],
            Convert.ToInt32(kv["tokenizer.ggml.bos_token_id"]), Convert.ToInt32(kv["tokenizer.ggml.eos_token_id"]), addBos: true);
    });

    [Fact]
    public void Gguf_metadata_reproduces_every_reference_tokenization()
    {
        foreach (var c in TokenizerFixtures.Tokenization("qwen2-micro"))
        {
            Assert.Equal(c.Ids, Micro.Value.Encode(c.Text));
            Assert.Equal(c.Decoded, Micro.Value.Decode(c.Ids));
        }
        foreach (var c in TokenizerFixtures.Chat("qwen2-micro")) Assert.Equal(c.Ids, Micro.Value.Encode(c.Text));
    }

    [Fact]
    public void Gguf_metadata_gives_the_special_ids()
    {
        var t = Micro.Value;
        Assert.Equal(460, t.BosTokenId);
        Assert.Equal(457, t.EosTokenId);
        Assert.Equal(512, t.VocabSize); // padded with [PADn] tokens
        Assert.Equal(462, t.TokenToId("<think>"));
        Assert.Equal([460, .. t.Encode("hi")], t.Encode("hi", addSpecialTokens: true));
    }
}
