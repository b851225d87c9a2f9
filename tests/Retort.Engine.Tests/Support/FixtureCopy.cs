using System.Text.Json.Nodes;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Support;

/// <summary>Writable copies of fixture files (the originals are read-only) for tests that corrupt them.</summary>
internal static class FixtureCopy
{
    /// <summary>Copies every file of fixtures/{model}/{folder} into <paramref name="dir"/>; returns its path.</summary>
    public static string Folder(TempDir dir, string model, string folder = "hf")
    {
        foreach (string f in Directory.GetFiles(Fixtures.Path(model, folder)))
            File.WriteAllBytes(dir.File(Path.GetFileName(f)), File.ReadAllBytes(f));
        return dir.Path;
    }

    /// <summary>Rewrites a JSON file of the copy through <paramref name="edit"/>.</summary>
    public static void EditJson(string path, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(root);
        File.WriteAllText(path, root.ToJsonString());
    }

    /// <summary>Asserts a one-line message that contains every fragment.</summary>
    public static void AssertNames(RetortException e, params string[] fragments)
    {
        Assert.DoesNotContain('\n', e.Message);
        foreach (string f in fragments) Assert.True(e.Message.Contains(f, StringComparison.Ordinal), $"\"{f}\" not in: {e.Message}");
    }
}
