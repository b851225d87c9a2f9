using Retort.Tests.Support;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

public sealed class TokenizerLoadingTests
{
    [Fact]
    public void Real_r1_tokenizer_loads_from_its_json()
    {
        var t = Tokenizer.FromTokenizerJson(
            Fixtures.Path("r1-qwen-tokenizer", "tokenizer.json"),
            Fixtures.Path("r1-qwen-tokenizer", "tokenizer_config.json"));
        Assert.Equal(151665, t.VocabSize);
        Assert.NotEmpty(t.Encode("warm up"));
    }

    [Fact]
    public void Without_config_there_is_no_bos_and_the_post_processor_decides()
    {
        var t = Tokenizer.FromTokenizerJson(Fixtures.Path("r1-qwen-tokenizer", "tokenizer.json"));
        Assert.Null(t.BosTokenId);
        Assert.False(t.AddBosToken);
        Assert.Equal(t.Encode("hi"), t.Encode("hi", addSpecialTokens: true));
    }

    [Fact]
    public void Missing_tokenizer_json_names_the_folder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "retort-no-tokenizer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var e = Assert.Throws<RetortException>(() => Tokenizer.FromHfFolder(dir));
            Assert.Contains(dir, e.Message);
            Assert.Contains("tokenizer.json", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("{ \"model\": ")]
    [InlineData("{ \"version\": \"1.0\" }")]
    [InlineData("{ \"model\": { \"type\": \"Unigram\", \"vocab\": [] } }")]
    [InlineData("{ \"model\": { \"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}, \"merges\": [] } }")]
    public void Malformed_tokenizer_json_is_a_retort_exception_naming_the_folder(string json)
    {
        string dir = Path.Combine(Path.GetTempPath(), "retort-bad-tokenizer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json);
            var e = Assert.Throws<RetortException>(() => Tokenizer.FromHfFolder(dir));
            Assert.Contains(dir, e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Unknown_gguf_pre_tokenizer_is_named_in_the_error()
    {
        var e = Assert.Throws<RetortException>(() =>
            Tokenizer.FromVocabulary(["a", "b", "ab"], null, ["a b"], "falcon", null, null, addBos: false));
        Assert.Contains("'falcon'", e.Message);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama-bpe")]
    [InlineData("qwen2")]
    public void FromVocabulary_applies_merges_by_rank(string pre)
    {
        // "abc": the rank-0 merge "b c" must win over "a b" even though it is further right.
        var t = Tokenizer.FromVocabulary(["a", "b", "c", "bc", "ab", "abc"], null, ["b c", "a b", "a bc"], pre, null, null, addBos: false);
        Assert.Equal([5], t.Encode("abc"));
        Assert.Equal([4], t.Encode("ab"));
        Assert.Equal([5, 5], t.Encode("abcabc"));
    }

    [Fact]
    public void Generation_config_eos_list_joins_the_eos_set()
    {
        string dir = Path.Combine(Path.GetTempPath(), "retort-gen-eos-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            foreach (string f in new[] { "tokenizer.json", "tokenizer_config.json" })
                File.Copy(Fixtures.Path("qwen2-micro", "hf", f), Path.Combine(dir, f));
            File.WriteAllText(Path.Combine(dir, "generation_config.json"), "{ \"eos_token_id\": [457, 461] }");
            var t = Tokenizer.FromHfFolder(dir);
            Assert.Equal(457, t.EosTokenId);
            Assert.Equal(new HashSet<int> { 457, 461 }, t.EosTokenIds);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
