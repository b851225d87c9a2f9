using System.Text.Json;
using Retort.Tests.Support;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>Loads each fixture tokenizer once and reads the Hugging Face reference data.</summary>
internal static class TokenizerFixtures
{
    public static readonly string[] SmallModels = ["qwen2-micro", "qwen2-tiny"];

    private static readonly Lazy<Tokenizer> R1Lazy = new(() => Tokenizer.FromHfFolder(Fixtures.Path("r1-qwen-tokenizer")));
    private static readonly Dictionary<string, Tokenizer> Small = [];

    public static Tokenizer R1 => R1Lazy.Value;

    public static Tokenizer ForModel(string model)
    {
        lock (Small)
        {
            if (!Small.TryGetValue(model, out var t))
            {
                t = Tokenizer.FromHfFolder(Fixtures.Path(model, "hf"));
                Small[model] = t;
            }
            return t;
        }
    }

    public sealed record Case(string Text, int[] Ids, string? Decoded);

    public static List<Case> Tokenization(string model) => ReadCases(model, "tokenization");

    public static List<Case> Chat(string model) => ReadCases(model, "chat");

    private static List<Case> ReadCases(string model, string key)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path(model, "reference", "tokenizer.json")));
        var list = new List<Case>();
        foreach (var e in doc.RootElement.GetProperty(key).EnumerateArray())
        {
            list.Add(new Case(
                e.GetProperty("text").GetString()!,
                [.. e.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32())],
                e.TryGetProperty("decoded", out var d) ? d.GetString() : null));
        }
        return list;
    }

    /// <summary>
    /// Turns a tokenizer.json into GGUF-style metadata (tokens by id, token types, "a b" merges) the
    /// way llama.cpp's converter does: added special tokens are control (3), other added tokens user-defined (4).
    /// </summary>
    public static (List<string> Tokens, List<int> Types, List<string> Merges) GgufStyleMetadata(string tokenizerJsonPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(tokenizerJsonPath));
        var model = doc.RootElement.GetProperty("model");
        var byId = new SortedDictionary<int, (string Token, int Type)>();
        foreach (var p in model.GetProperty("vocab").EnumerateObject()) byId[p.Value.GetInt32()] = (p.Name, 1);
        foreach (var a in doc.RootElement.GetProperty("added_tokens").EnumerateArray())
            byId[a.GetProperty("id").GetInt32()] = (a.GetProperty("content").GetString()!, a.GetProperty("special").GetBoolean() ? 3 : 4);
        var tokens = new List<string>();
        var types = new List<int>();
        int maxId = byId.Keys.Max();
        for (int id = 0; id <= maxId; id++)
        {
            var (token, type) = byId.TryGetValue(id, out var v) ? v : ($"[PAD{id}]", 5);
            tokens.Add(token);
            types.Add(type);
        }
        var merges = new List<string>();
        foreach (var m in model.GetProperty("merges").EnumerateArray())
            merges.Add(m.ValueKind == JsonValueKind.String ? m.GetString()! : m[0].GetString() + " " + m[1].GetString());
        return (tokens, types, merges);
    }
}
