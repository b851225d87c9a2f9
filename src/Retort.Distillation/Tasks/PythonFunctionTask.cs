using System.Globalization;
using System.Text.Json.Nodes;
using Retort.Distillation.Evaluation;
using Retort.Distillation.IO;
using Retort.Engine;
using static Retort.Distillation.Tasks.Num;

namespace Retort.Distillation.Tasks;

/// <summary>
/// 写一个 Python 函数…: one short function of <see cref="PythonFunctionCatalog"/>, asked for in several
/// wordings (some with the function's name and parameters, some without, like the seed's "写一个 Python
/// 函数判断回文字符串"). The solution gives the approach in two or three lines; the answer is a ```python
/// block, and the task carries the hidden tests it is checked by (<see cref="CodeTests"/>).
/// <code>
/// a palindrome reads the same backwards
/// s[::-1] is the string reversed
/// return s == s[::-1]
/// </code>
/// </summary>
internal static class PythonFunctionTask
{
    private sealed record Slots(string Description, string Name, string Parameters);

    private static readonly Func<Slots, string> ZhSeed = s => $"写一个 Python 函数{s.Description}";

    /// <summary>The seed's wording counts twice; the last of each is reserved for held-out prompts.</summary>
    private static readonly Phrase<Func<Slots, string>> ZhTemplates = Phrase.Of<Func<Slots, string>>(
        [
            ZhSeed, ZhSeed,
            s => $"用 Python 写一个函数，{s.Description}。",
            s => $"请写一个 Python 函数 {s.Name}，{s.Description}。",
            s => $"实现 Python 函数 {s.Name}({s.Parameters})：{s.Description}。",
        ],
        s => $"编写一个 Python 函数，要求{s.Description}。");

    private static readonly Phrase<Func<Slots, string>> EnTemplates = Phrase.Of<Func<Slots, string>>(
        [
            s => $"Write a Python function that {s.Description}.",
            s => $"Write a Python function {s.Name}({s.Parameters}) that {s.Description}.",
            s => $"Implement {s.Name}({s.Parameters}) in Python: it {s.Description}.",
        ],
        s => $"Create a Python function which {s.Description}.");

    public static TaskContent Make(SplitMix64 rng, TaskLanguage lang, int difficulty, Phrasing phrasing)
    {
        var candidates = PythonFunctionCatalog.All.Where(f => f.Difficulty == difficulty).ToList();
        var function = rng.Pick(candidates);
        long k = function.Constants.Count > 0 ? rng.Pick(function.Constants) : 0;
        string Fill(string text) => text.Replace("{k}", S(k));
        bool zh = lang == TaskLanguage.Zh;
        string name = Fill(function.Name);
        string description = Fill(phrasing.Pick(zh ? function.Zh : function.En));
        string prompt = phrasing.Pick(zh ? ZhTemplates : EnTemplates)(new Slots(description, name, function.Parameters));
        string code = $"def {name}({function.Parameters}):\n{Fill(function.Body)}";
        string reasoning = string.Join("\n", (zh ? function.StepsZh : function.StepsEn).Select(Fill));
        var cases = function.Cases(k).Select(c => new CodeTestCase(Json(c.Arguments), Json(c.Expected))).ToList();
        return new TaskContent(prompt, reasoning, $"```python\n{code}\n```", new CodeTests(name, cases));
    }

    /// <summary>A test value as JSON text: strings, whole numbers, booleans and arrays of them.</summary>
    private static string Json(object value) => ToNode(value)?.ToJsonString(JsonlFile.LineOptions) ?? "null";

    private static JsonNode? ToNode(object value) => value switch
    {
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        long n => JsonValue.Create(n),
        int n => JsonValue.Create(n),
        System.Collections.IEnumerable items => new JsonArray(items.Cast<object>().Select(ToNode).ToArray()),
        _ => throw new RetortException($"internal: a Python test value of type {value.GetType().Name} ({Convert.ToString(value, CultureInfo.InvariantCulture)}) has no JSON form here"),
    };
}
