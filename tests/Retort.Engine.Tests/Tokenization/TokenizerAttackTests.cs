using System.Diagnostics;
using System.Text.Json.Nodes;
using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Sampling;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>
/// Hostile tokenizer.json files (copies of the micro fixture's, corrupted): every one must load or
/// fail with a one-line RetortException naming the file and the JSON path, in bounded time; a
/// pattern that backtracks catastrophically must end an Encode with such an error within seconds.
/// </summary>
public sealed class TokenizerAttackTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Folder() => FixtureCopy.Folder(_dir, "qwen2-micro");

    private string TokenizerJson => _dir.File("tokenizer.json");

    /// <summary>Loads the folder after <paramref name="edit"/>; the error must name tokenizer.json and each fragment.</summary>
    private RetortException LoadFails(Action<JsonObject> edit, params string[] fragments)
    {
        string dir = Folder();
        FixtureCopy.EditJson(TokenizerJson, edit);
        var e = Assert.Throws<RetortException>(() => Tokenizer.FromHfFolder(dir));
        FixtureCopy.AssertNames(e, [TokenizerJson, .. fragments]);
        return e;
    }

    private static JsonObject Added(JsonObject root, int i) => root["added_tokens"]![i]!.AsObject();

    private static JsonObject Split(JsonObject root) => root["pre_tokenizer"]!["pretokenizers"]![0]!.AsObject();

    /// <summary>Runs <paramref name="action"/> on a thread of its own and fails if it is still running after the bound.</summary>
    private static T Bounded<T>(Func<T> action)
    {
        var task = Task.Run(action);
        Assert.True(task.Wait(Bound), $"still running after {Bound.TotalSeconds} s");
        return task.Result;
    }

    private static RetortException BoundedThrows(Action action) =>
        Bounded(() =>
        {
            try
            {
                action();
            }
            catch (RetortException e)
            {
                return e;
            }
            throw new Xunit.Sdk.XunitException("expected a RetortException, none was thrown");
        });

    [Theory]
    [InlineData(2147483647L)]
    [InlineData(1L << 30)]
    [InlineData(100_000L)]
    [InlineData(-1L)]
    public void Huge_or_negative_vocabulary_ids_are_refused_before_anything_is_sized_by_them(long id)
    {
        // 457 entries and 7 added tokens: any id of 464 + slack or more cannot mean a token of this file.
        var e = LoadFails(root => root["model"]!["vocab"]!["a"] = id, "model.vocab.a", id.ToString(), "expected a token id in 0..");
        Assert.Contains("464 vocabulary entries and added tokens", e.Message);
    }

    [Theory]
    [InlineData("1.5", "1.5")]
    [InlineData("\"7\"", "the string \"7\"")]
    [InlineData("1e300", "1e300")]
    [InlineData("null", "null")]
    public void Vocabulary_ids_of_the_wrong_kind_are_refused(string json, string found)
    {
        LoadFails(root => root["model"]!["vocab"]!["Ġ"] = JsonNode.Parse(json), "model.vocab[\"Ġ\"]", $"found {found}");
    }

    [Theory]
    [InlineData(2147483647L)]
    [InlineData(16_777_216L)]
    [InlineData(-7L)]
    public void Huge_added_token_ids_are_refused(long id)
    {
        LoadFails(root => Added(root, 3)["id"] = id, "added_tokens[3].id", id.ToString());
    }

    [Fact]
    public void An_added_token_without_content_names_its_path()
    {
        LoadFails(root => Added(root, 2).Remove("content"), "added_tokens[2].content", "expected a non-empty string", "nothing");
    }

    [Theory]
    [InlineData("42", "found 42")]
    [InlineData("\"\"", "found the string \"\"")]
    [InlineData("[\"<x>\"]", "found an array")]
    [InlineData("{}", "found an object")]
    public void Added_token_content_of_the_wrong_kind_or_empty_is_refused(string json, string found)
    {
        LoadFails(root => Added(root, 0)["content"] = JsonNode.Parse(json), "added_tokens[0].content", "expected a non-empty string", found);
    }

    [Fact]
    public void An_added_token_id_of_the_wrong_kind_is_refused()
    {
        LoadFails(root => Added(root, 5)["id"] = "462", "added_tokens[5].id", "the string \"462\"");
    }

    [Fact]
    public void Added_token_flags_must_be_booleans()
    {
        LoadFails(root => Added(root, 1)["special"] = "yes", "added_tokens[1].special", "expected true or false", "the string \"yes\"");
        LoadFails(root => Added(root, 4)["lstrip"] = 1, "added_tokens[4].lstrip", "expected true or false");
    }

    [Fact]
    public void Duplicate_added_token_ids_with_different_content_are_refused()
    {
        // added_tokens[0] is id 457, <｜end▁of▁sentence｜>.
        var e = LoadFails(root => Added(root, 4)["id"] = 457, "added_tokens[4].id", "457", "added_tokens[0]");
        Assert.Contains("<|EOT|>", e.Message);
    }

    [Fact]
    public void The_same_added_content_under_two_ids_is_refused()
    {
        LoadFails(root => Added(root, 6)["content"] = "<think>", "added_tokens[6].content", "'<think>'", "added_tokens[5]");
    }

    [Fact]
    public void The_same_added_token_listed_twice_loads()
    {
        string dir = Folder();
        FixtureCopy.EditJson(TokenizerJson, root => root["added_tokens"]!.AsArray().Add(Added(root, 5).DeepClone()));
        var t = Tokenizer.FromHfFolder(dir);
        Assert.Equal([462], t.Encode("<think>"));
        Assert.Equal(7, t.AddedTokens.Count);
    }

    [Theory]
    [InlineData("{\"x\": 1}", "added_tokens", "expected an array")]
    [InlineData("[5]", "added_tokens[0]", "expected an object")]
    public void Added_tokens_that_are_not_a_list_of_objects_are_refused(string json, string path, string expected)
    {
        LoadFails(root => root["added_tokens"] = JsonNode.Parse(json), path, expected);
    }

    [Theory]
    [InlineData("(a")]
    [InlineData("[z-a]")]
    [InlineData("a{2,1}")]
    [InlineData("(?<n>a)\\k<m>")]
    [InlineData("\\p{NotACategory}")]
    public void An_invalid_split_regex_is_a_load_error_naming_the_pattern(string pattern)
    {
        LoadFails(root => Split(root)["pattern"] = new JsonObject { ["Regex"] = pattern },
            "pre_tokenizer Split pattern", $"'{pattern}'", "pre_tokenizer.pretokenizers[0].pattern.Regex", "not a valid");
    }

    [Fact]
    public void An_enormous_split_regex_is_refused()
    {
        string pattern = string.Concat(Enumerable.Repeat("(?:ab)|", 10_000)) + "c";
        LoadFails(root => Split(root)["pattern"] = new JsonObject { ["Regex"] = pattern }, "pattern.Regex", "at most 16384 characters");
    }

    [Theory]
    [InlineData("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")]
    [InlineData("(a|aa)+b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("(\\w+\\s?)+;", "word word word word word word word word word word word word word word word word!")]
    public void A_catastrophic_split_regex_times_out_with_an_error_naming_it(string pattern, string prompt)
    {
        string dir = Folder();
        FixtureCopy.EditJson(TokenizerJson, root => Split(root)["pattern"] = new JsonObject { ["Regex"] = pattern });
        var tokenizer = Tokenizer.FromHfFolder(dir);
        var clock = Stopwatch.StartNew();
        var e = BoundedThrows(() => tokenizer.Encode(prompt));
        FixtureCopy.AssertNames(e, TokenizerJson, "pre_tokenizer Split pattern", $"'{pattern}'", "timed out after 1 s", "backtracks catastrophically");
        Assert.True(clock.Elapsed < Bound);
        // The tokenizer stays usable for text the pattern handles quickly.
        Assert.NotEmpty(tokenizer.Encode("b"));
    }

    [Fact]
    public void A_pattern_slow_on_every_match_runs_out_of_the_whole_calls_time()
    {
        // Each match scans the rest of the input (about a millisecond here): under the per-match
        // limit every time, quadratic in all; the call's own deadline has to end it.
        string dir = Folder();
        FixtureCopy.EditJson(TokenizerJson, root => Split(root)["pattern"] = new JsonObject { ["Regex"] = "a(?=.*z)|." });
        var tokenizer = Tokenizer.FromHfFolder(dir);
        var e = BoundedThrows(() => tokenizer.Encode(new string('a', 100_000)));
        FixtureCopy.AssertNames(e, TokenizerJson, "'a(?=.*z)|.'", "ran out of time", "100000-character input");
    }

    [Fact]
    public void The_timeout_reaches_every_path_that_tokenizes_a_loaded_model()
    {
        string dir = Folder();
        FixtureCopy.EditJson(TokenizerJson, root => Split(root)["pattern"] = new JsonObject { ["Regex"] = "(a+)+$" });
        using var model = LoadedModel.Load(dir);
        string hostile = new string('a', 60) + "!";
        // What run, serve and distill call: the model's tokenizer, with and without special tokens.
        FixtureCopy.AssertNames(BoundedThrows(() => model.Tokenizer.Encode(hostile, addSpecialTokens: true)), "timed out");
        // A chat turn renders the template and tokenizes the whole conversation.
        var chat = new ChatSession(model, 256);
        FixtureCopy.AssertNames(
            BoundedThrows(() => chat.Send(hostile, new SamplingOptions { MaxTokens = 1 })), "(a+)+$", "timed out");
    }

    [Fact]
    public void Added_tokens_built_to_overlap_the_text_end_in_bounded_time()
    {
        // 300 tokens "aaa…ab" up to 1000 characters long and a prompt of a's: every position of the
        // prompt is a prefix of many tokens. Either the trie gets through it or the call's deadline ends it.
        string dir = Folder();
        FixtureCopy.EditJson(TokenizerJson, root =>
        {
            var added = root["added_tokens"]!.AsArray();
            for (int i = 0; i < 300; i++)
                added.Add(new JsonObject { ["id"] = 464 + i, ["content"] = new string('a', 700 + i) + "b", ["special"] = false, ["normalized"] = false });
        });
        var tokenizer = Tokenizer.FromHfFolder(dir);
        string prompt = new string('a', 200_000);
        int[]? ids = Bounded(() =>
        {
            try
            {
                return tokenizer.Encode(prompt);
            }
            catch (RetortException e)
            {
                FixtureCopy.AssertNames(e, TokenizerJson, "added tokens", "ran out of time");
                return null;
            }
        });
        if (ids != null) Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
        Assert.Equal([464 + 50], tokenizer.Encode(new string('a', 750) + "b"));
    }

    [Fact]
    public void An_added_token_longer_than_the_limit_is_refused()
    {
        LoadFails(root => Added(root, 3)["content"] = new string('x', 5000), "added_tokens[3].content", "at most 1024 characters", "5000");
    }

    [Theory]
    [InlineData("42", "model.merges[7]")]
    [InlineData("\"nospace\"", "model.merges[7]")]
    [InlineData("[\"a\"]", "model.merges[7]")]
    [InlineData("[\"a\", 5]", "model.merges[7][1]")]
    [InlineData("[\"\", \"b\"]", "model.merges[7][0]")]
    public void Malformed_merges_name_their_index(string json, string path)
    {
        LoadFails(root => root["model"]!["merges"]![7] = JsonNode.Parse(json), path);
    }

    [Fact]
    public void Post_processor_ids_must_be_tokens_of_the_file()
    {
        const string bos = "<｜begin▁of▁sentence｜>";
        LoadFails(root => root["post_processor"]!["special_tokens"]![bos]!["ids"] = new JsonArray(2147483647),
            "post_processor.special_tokens[\"<｜begin▁of▁sentence｜>\"].ids[0]", "2147483647");
        LoadFails(root => root["post_processor"]!["single"]![0]!["SpecialToken"]!["id"] = "<nope>", "post_processor.single[0].SpecialToken.id", "'<nope>'");
        LoadFails(root => root["post_processor"]!["single"] = 3, "post_processor.single", "expected an array");
    }

    [Fact]
    public void Structure_of_the_wrong_kind_names_its_path()
    {
        LoadFails(root => root["model"] = "BPE", "model", "expected an object");
        LoadFails(root => root["model"]!["vocab"] = new JsonArray(), "model.vocab", "expected an object");
        LoadFails(root => root["model"]!["type"] = "WordPiece", "model.type", "not supported");
        LoadFails(root => root["pre_tokenizer"]!["pretokenizers"] = 1, "pre_tokenizer.pretokenizers", "expected an array");
        LoadFails(root => Split(root)["pattern"] = "x", "pre_tokenizer.pretokenizers[0].pattern", "expected an object");
        LoadFails(root => root["normalizer"]!["type"] = 5, "normalizer.type", "expected a string");
    }

    [Fact]
    public void Not_json_names_the_file_line_and_byte()
    {
        string dir = Folder();
        File.WriteAllText(TokenizerJson, "{\n  \"model\": {\n    \"vocab\": {\"a\": 0,,}\n");
        FixtureCopy.AssertNames(Assert.Throws<RetortException>(() => Tokenizer.FromHfFolder(dir)), TokenizerJson, "not valid JSON", "line 3");
    }

    [Fact]
    public void Tokenizer_config_and_generation_config_errors_name_their_file()
    {
        string dir = Folder();
        string config = _dir.File("tokenizer_config.json"), generation = _dir.File("generation_config.json");
        FixtureCopy.EditJson(config, root => root["bos_token"] = 5);
        FixtureCopy.AssertNames(Assert.Throws<RetortException>(() => Tokenizer.FromHfFolder(dir)), config, "bos_token", "found 5");
        FixtureCopy.EditJson(config, root => root["bos_token"] = "<not a token>");
        FixtureCopy.AssertNames(Assert.Throws<RetortException>(() => Tokenizer.FromHfFolder(dir)), config, "bos_token", "'<not a token>'");

        File.WriteAllBytes(config, File.ReadAllBytes(Retort.Tests.Support.Fixtures.Path("qwen2-micro", "hf", "tokenizer_config.json")));
        FixtureCopy.EditJson(generation, root => root["eos_token_id"] = new JsonArray(457, -5));
        FixtureCopy.AssertNames(Assert.Throws<RetortException>(() => Tokenizer.FromHfFolder(dir)), generation, "eos_token_id[1]", "found -5");
        FixtureCopy.EditJson(generation, root => root["eos_token_id"] = "457");
        FixtureCopy.AssertNames(Assert.Throws<RetortException>(() => Tokenizer.FromHfFolder(dir)), generation, "eos_token_id");
    }

    [Fact]
    public void GGUF_style_metadata_ids_must_be_tokens()
    {
        var e = Assert.Throws<RetortException>(() =>
            Tokenizer.FromVocabulary(["a", "b"], null, [], "qwen2", bosId: 2147483647, eosId: 1, addBos: true));
        FixtureCopy.AssertNames(e, "BOS", "2147483647", "0..1");
    }

    /// <summary>
    /// Seeded random damage to the micro tokenizer.json, in its structure and in its bytes: each copy
    /// must load or fail with a RetortException, and one that loads must tokenize a mixed text into
    /// ids of its vocabulary (or fail the same way), all within the bound.
    /// </summary>
    [Fact]
    public void Random_mutations_load_or_fail_with_a_retort_exception()
    {
        string dir = Folder();
        string original = File.ReadAllText(TokenizerJson);
        var rng = new Random(20250611);
        JsonNode?[] values =
        [
            2147483647, -1, 16777216, 1L << 40, 0, 1.5, 1e300, "", "x", "(a+)+$", "(", true, false, null,
            new JsonArray(), new JsonObject(), new JsonArray(1, 2), JsonNode.Parse("[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]"),
        ];
        int loaded = 0, refused = 0;
        for (int n = 0; n < 200; n++)
        {
            string text;
            if (n % 4 == 3)
            {
                // Byte damage: cut the file short or overwrite a few characters.
                var chars = original.ToCharArray();
                for (int k = rng.Next(1, 4); k > 0; k--) chars[rng.Next(chars.Length)] = "{}[],:\"0-9 e\\"[rng.Next(13)];
                text = rng.Next(3) == 0 ? new string(chars, 0, rng.Next(chars.Length)) : new string(chars);
            }
            else
            {
                var root = JsonNode.Parse(original)!;
                for (int k = rng.Next(1, 4); k > 0; k--) Mutate(root, rng, values);
                text = root.ToJsonString();
            }
            File.WriteAllText(TokenizerJson, text);
            string what = $"mutation #{n}";
            Bounded(() =>
            {
                Tokenizer t;
                try
                {
                    t = Tokenizer.FromHfFolder(dir);
                }
                catch (RetortException e)
                {
                    Assert.DoesNotContain('\n', e.Message);
                    refused++;
                    return 0;
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException($"{what}: {e.GetType().Name} instead of RetortException: {e.Message}");
                }
                loaded++;
                try
                {
                    foreach (int id in t.Encode("Hello <think>wörld</think> 123 <｜User｜>aaaa!", addSpecialTokens: true))
                        Assert.InRange(id, 0, t.VocabSize - 1);
                }
                catch (RetortException)
                {
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    throw new Xunit.Sdk.XunitException($"{what}: Encode threw {e.GetType().Name}: {e.Message}");
                }
                return 0;
            });
        }
        // The mutations must reach the checks, and not every one may break the file.
        Assert.True(refused > 20, $"only {refused} of 200 mutations were refused");
        Assert.True(loaded > 5, $"only {loaded} of 200 mutations loaded");
    }

    /// <summary>Replaces, removes or duplicates one randomly chosen value somewhere in the tree.</summary>
    private static void Mutate(JsonNode root, Random rng, JsonNode?[] values)
    {
        // Walk down a random path, preferring the interesting parts (added tokens, pre-tokenizer, model).
        JsonNode node = root;
        for (int depth = 0; depth < 6; depth++)
        {
            JsonNode? next = node switch
            {
                JsonObject o when o.Count > 0 => o.ElementAt(rng.Next(o.Count)).Value,
                JsonArray a when a.Count > 0 => a[rng.Next(a.Count)],
                _ => null,
            };
            if (next is null || next is JsonValue || rng.Next(4) == 0) break;
            node = next;
        }
        JsonNode? value = values[rng.Next(values.Length)]?.DeepClone();
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                string key = o.ElementAt(rng.Next(o.Count)).Key;
                if (rng.Next(5) == 0) o.Remove(key);
                else o[key] = value;
                break;
            case JsonArray a when a.Count > 0:
                int i = rng.Next(a.Count);
                if (rng.Next(5) == 0) a.Add(a[i]?.DeepClone());
                else a[i] = value;
                break;
        }
    }
}
