using System.Globalization;
using System.Text.Json;

namespace Retort.Engine.IO;

/// <summary>
/// A value read from a JSON file together with the file and its JSON path (such as
/// <c>added_tokens[3].id</c>), so that every check of untrusted JSON can fail with one line naming
/// the file, the path, what was expected and what was found, instead of a JsonElement accessor's
/// InvalidOperationException, FormatException or KeyNotFoundException.
/// </summary>
internal readonly struct JsonAt
{
    private const int MaxShownText = 60;

    // The path is put together only when an error needs it: a vocabulary has 150k members.
    private readonly string _parentPath;
    private readonly string? _name;
    private readonly int _index;

    public JsonAt(JsonElement value, string file, string path) : this(value, file, path, null, -1)
    {
    }

    private JsonAt(JsonElement value, string file, string parentPath, string? name, int index)
    {
        Value = value;
        File = file;
        _parentPath = parentPath;
        _name = name;
        _index = index;
    }

    /// <summary>The element; default (kind Undefined) when the key is absent.</summary>
    public JsonElement Value { get; }

    public string File { get; }

    /// <summary>The JSON path from the document root; empty for the root itself.</summary>
    public string Path => _name != null ? Member(_parentPath, _name) : _index >= 0 ? $"{_parentPath}[{_index}]" : _parentPath;

    public JsonValueKind Kind => Value.ValueKind;

    /// <summary>True when the key is missing or its value is null (the two mean the same in these files).</summary>
    public bool IsAbsent => Kind is JsonValueKind.Undefined or JsonValueKind.Null;

    /// <summary>The member <paramref name="name"/> of an object; absent when this is not an object or has no such member.</summary>
    public JsonAt this[string name] =>
        new(Kind == JsonValueKind.Object && Value.TryGetProperty(name, out var v) ? v : default, File, Path, name, -1);

    public JsonAt this[int index] =>
        new(Kind == JsonValueKind.Array && index >= 0 && index < Value.GetArrayLength() ? Value[index] : default, File, Path, null, index);

    /// <summary>An error naming the file, the path, <paramref name="expected"/> and what the file holds here.</summary>
    public RetortException Error(string expected) => new($"'{File}': {Shown(Path)}: expected {expected}, found {Describe(Value)}");

    /// <summary>An error about this value that is not a type mismatch (a duplicate, an unsupported choice).</summary>
    public RetortException Problem(string message) => new($"'{File}': {Shown(Path)}: {MessageText.OneLine(message)}");

    public JsonAt RequireObject()
    {
        if (Kind != JsonValueKind.Object) throw Error("an object");
        return this;
    }

    public int ArrayLength()
    {
        if (Kind != JsonValueKind.Array) throw Error("an array");
        return Value.GetArrayLength();
    }

    public IEnumerable<JsonAt> Items()
    {
        if (Kind != JsonValueKind.Array) throw Error("an array");
        return ItemsOf(this);

        static IEnumerable<JsonAt> ItemsOf(JsonAt array)
        {
            string path = array.Path;
            int i = 0;
            foreach (var item in array.Value.EnumerateArray()) yield return new JsonAt(item, array.File, path, null, i++);
        }
    }

    public IEnumerable<(string Name, JsonAt Value)> Members()
    {
        if (Kind != JsonValueKind.Object) throw Error("an object");
        return MembersOf(this);

        static IEnumerable<(string, JsonAt)> MembersOf(JsonAt obj)
        {
            string path = obj.Path;
            foreach (var p in obj.Value.EnumerateObject()) yield return (p.Name, new JsonAt(p.Value, obj.File, path, p.Name, -1));
        }
    }

    /// <summary>Members of an object, counted without reading them.</summary>
    public int MemberCount()
    {
        if (Kind != JsonValueKind.Object) throw Error("an object");
        int n = 0;
        foreach (var _ in Value.EnumerateObject()) n++;
        return n;
    }

    public string String()
    {
        if (Kind != JsonValueKind.String) throw Error("a string");
        return Value.GetString()!;
    }

    public string? OptionalString() => IsAbsent ? null : String();

    /// <summary>A boolean; <paramref name="absent"/> when the key is missing or null.</summary>
    public bool Bool(bool absent = false) => Kind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Undefined or JsonValueKind.Null => absent,
        _ => throw Error("true or false"),
    };

    /// <summary>An integer in [min, max]; <paramref name="what"/> describes it in the error ("a token id").</summary>
    public int Int(int min, int max, string what = "an integer")
    {
        if (Kind != JsonValueKind.Number || !Value.TryGetInt64(out long v) || v < min || v > max)
            throw Error($"{what} in {min}..{max}");
        return (int)v;
    }

    public int? OptionalInt(int min, int max, string what = "an integer") => IsAbsent ? null : Int(min, max, what);

    /// <summary>A finite number in (exclusiveMin, max]; "1e999" parses as infinity and is refused here.</summary>
    public double FiniteAbove(double exclusiveMin, double max, string what)
    {
        if (Kind != JsonValueKind.Number || !Value.TryGetDouble(out double v) || !double.IsFinite(v) || v <= exclusiveMin || v > max)
            throw Error(what);
        return v;
    }

    public double? OptionalFiniteAbove(double exclusiveMin, double max, string what) =>
        IsAbsent ? null : FiniteAbove(exclusiveMin, max, what);

    /// <summary>"a" then "a.b", and ["..."] for names that are not plain identifiers.</summary>
    private static string Member(string path, string name)
    {
        bool plain = name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        if (!plain) return $"{path}[\"{Truncate(name)}\"]";
        return path.Length == 0 ? name : $"{path}.{name}";
    }

    private static string Shown(string path) => path.Length == 0 ? "the top level" : MessageText.OneLine(path);

    private static string Truncate(string text) => text.Length > MaxShownText ? text[..MaxShownText] + "…" : text;

    /// <summary>What a value is, for "found …": its kind, and short values themselves.</summary>
    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Undefined => "nothing (the key is missing)",
        JsonValueKind.Null => "null",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.String => $"the string \"{MessageText.OneLine(Truncate(value.GetString()!))}\"",
        JsonValueKind.Number => MessageText.OneLine(Truncate(value.GetRawText())),
        JsonValueKind.Array => $"an array of {value.GetArrayLength().ToString(CultureInfo.InvariantCulture)} elements",
        _ => "an object",
    };
}
