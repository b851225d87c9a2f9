using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>lstrip / rstrip / single_word and ignore_merges on small hand-made tokenizers.</summary>
public sealed class AddedTokenTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "retort-added-" + Guid.NewGuid().ToString("N"));

    public AddedTokenTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    private Tokenizer Load()
    {
        const string json = """
            {
              "added_tokens": [
                { "id": 3, "content": "<x>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true },
                { "id": 4, "content": "<y>", "single_word": false, "lstrip": false, "rstrip": true, "normalized": false, "special": false },
                { "id": 5, "content": "ab", "single_word": true, "lstrip": false, "rstrip": false, "normalized": false, "special": false },
                { "id": 6, "content": "<x>>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false }
              ],
              "normalizer": null,
              "pre_tokenizer": { "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true },
              "post_processor": null,
              "decoder": { "type": "ByteLevel" },
              "model": { "type": "BPE", "vocab": { "a": 0, "b": 1, "Ġ": 2 }, "merges": [] }
            }
            """;
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), json);
        return Tokenizer.FromHfFolder(_dir);
    }

    [Fact]
    public void Lstrip_swallows_whitespace_before_the_token()
    {
        Assert.Equal([0, 3, 1], Load().Encode("a  <x>b"));
    }

    [Fact]
    public void Rstrip_swallows_whitespace_after_the_token()
    {
        Assert.Equal([0, 2, 4, 1], Load().Encode("a <y>  b"));
    }

    [Fact]
    public void Single_word_tokens_do_not_match_inside_words()
    {
        var t = Load();
        Assert.Equal([5, 2, 5], t.Encode("ab ab"));
        Assert.Equal([0, 0, 1], t.Encode("aab"));
    }

    [Fact]
    public void Longest_added_token_wins()
    {
        Assert.Equal([6], Load().Encode("<x>>"));
    }

    [Fact]
    public void Ignore_merges_takes_whole_vocabulary_words_first()
    {
        string[] tokens = ["a", "b", "c", "abc"];
        Assert.Equal([3], Tokenizer.FromVocabulary(tokens, null, [], "llama3", null, null, addBos: false).Encode("abc"));
        Assert.Equal([0, 1, 2], Tokenizer.FromVocabulary(tokens, null, [], "qwen2", null, null, addBos: false).Encode("abc"));
    }

    [Fact]
    public void FromVocabulary_treats_control_and_user_defined_types_as_added_tokens()
    {
        string[] tokens = ["a", "b", "<s>", "<u>", "<n>"];
        int[] types = [1, 1, 3, 4, 1];
        var t = Tokenizer.FromVocabulary(tokens, types, [], "gpt2", bosId: 2, eosId: 2, addBos: true);
        Assert.Equal([2, 0, 3, 1], t.Encode("a<u>b", addSpecialTokens: true));
        Assert.True(t.IsSpecial(2));
        Assert.False(t.IsSpecial(3));
        Assert.Equal("a<u>b", t.Decode([2, 0, 3, 1], skipSpecialTokens: true));
        Assert.True(t.AddBosToken);
    }
}
