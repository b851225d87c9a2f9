using System.Text.Json;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Retort.Engine.Synthesis;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>
/// Retort's tokenizer, built from the metadata of a GGUF that <see cref="SyntheticModel"/> writes from the
/// real R1 tokenizer, against llama.cpp's ids for the same file (Reference/Data/r1-tokenizer-llama-cpp.json,
/// made by tools/reference/llama_cpp_tokenize.mjs) and transformers' (r1-tokenizer-reference.json).
/// </summary>
public sealed class LlamaCppTokenizerTests : IDisposable
{
    // llama.cpp does not apply tokenizer.json's NFC normalizer; Retort follows Hugging Face there on
    // purpose, so on text that is not already NFC Retort matches HF and differs from llama.cpp.
    private static readonly string[] KnownNfcDifferences = ["e\u0301 vs \u00e9, A\u030a vs \u00c5"];

    private readonly TempDir _dir = new();

    private static JsonElement Load(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "Data", name)));
        return doc.RootElement.GetProperty("tokenization").Clone();
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    [Fact]
    public void GgufTokenizerGivesLlamaCppIdsExceptWhereLlamaCppSkipsNfc()
    {
        var preset = new SynthPreset("r1-vocab-tiny", new ModelConfig
        {
            Architecture = "qwen2", HiddenSize = 32, LayerCount = 1, HeadCount = 2, KvHeadCount = 1, HeadDim = 16,
            FeedForwardSize = 64, VocabSize = 151936, RmsNormEps = 1e-6f, RopeTheta = 10000f,
            RopeLayout = RopeLayout.NeoX, ContextLength = 256,
        }, QkvBias: true, TiedEmbeddings: true, PreTokenizer: "qwen2");
        string path = _dir.File("r1-vocab.gguf");
        SyntheticModel.Write(preset, "q8_0", Fixtures.Path("r1-qwen-tokenizer"), path, 7);
        using var model = LoadedModel.Load(path);

        var llama = Load("r1-tokenizer-llama-cpp.json");
        var hf = Load("r1-tokenizer-reference.json");
        Assert.Equal(hf.GetArrayLength(), llama.GetArrayLength());
        var differences = new List<string>();
        for (int i = 0; i < llama.GetArrayLength(); i++)
        {
            string text = llama[i].GetProperty("text").GetString()!;
            Assert.Equal(hf[i].GetProperty("text").GetString(), text);
            int[] ids = model.Tokenizer.Encode(text);
            int[] llamaIds = Ints(llama[i].GetProperty("ids")), hfIds = Ints(hf[i].GetProperty("ids"));
            if (llamaIds.SequenceEqual(hfIds))
                Assert.Equal(llamaIds, ids);
            else
            {
                differences.Add(text);
                Assert.Equal(hfIds, ids);
            }
        }
        Assert.Equal(KnownNfcDifferences, differences);
    }

    public void Dispose() => _dir.Dispose();
}
