using System.Security.Cryptography;
using System.Text;
using Retort.Distillation.IO;
using Retort.Engine;

namespace Retort.Distillation.Traces;

/// <summary>
/// Reads prompts.jsonl: "prompt" (or "question", "problem"), an optional "id" and an optional reference
/// "answer". Lines without an id get one from a hash of the prompt, stable across edits of the file.
/// </summary>
public static class PromptFile
{
    public static IReadOnlyList<PromptItem> Read(string path)
    {
        var items = new List<PromptItem>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in JsonlFile.Read(path))
        {
            string prompt = line.RequireString("prompt", "question", "problem");
            string id = line.GetString("id") ?? HashId(prompt);
            if (seen.TryGetValue(id, out int first))
                throw new RetortException($"{line.Where}: id '{id}' repeats line {first} (ids must be unique, resuming keys on them)");
            seen[id] = line.Number;
            items.Add(new PromptItem(id, prompt, line.GetString("answer")));
        }
        return items;
    }

    public static string HashId(string prompt) =>
        "p-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prompt)))[..16];
}
