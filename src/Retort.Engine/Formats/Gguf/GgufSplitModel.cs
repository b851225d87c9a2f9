using System.Text.RegularExpressions;
using Retort.Engine.Tensors;

namespace Retort.Engine.Formats.Gguf;

/// <summary>
/// A model that llama.cpp's gguf-split cut into PREFIX-00001-of-0000N.gguf … PREFIX-0000N-of-0000N.gguf
/// (how the Hub stores models over its 50 GB file limit): every part is a GGUF of its own carrying
/// split.no, split.count and split.tensors.count; the first part also holds the model's metadata.
/// The tensors of all parts form one store; each part stays memory-mapped until disposal.
/// </summary>
public sealed partial class GgufSplitModel : ITensorStore, ITensorLocator
{
    public const string IndexKey = "split.no";

    public const string CountKey = "split.count";

    public const string TensorCountKey = "split.tensors.count";

    private readonly GgufFile[] _parts;

    private GgufSplitModel(GgufFile[] parts, Dictionary<string, TensorData> tensors)
    {
        _parts = parts;
        Tensors = tensors;
        TensorList = parts.SelectMany(p => p.TensorList).ToList();
    }

    /// <summary>The parts in order; the first holds the model's metadata.</summary>
    public IReadOnlyList<GgufFile> Parts => _parts;

    public IReadOnlyDictionary<string, TensorData> Tensors { get; }

    /// <summary>Tensors in part order, then file order.</summary>
    public IReadOnlyList<TensorData> TensorList { get; }

    /// <summary>
    /// Opens a GGUF model, split or not: the store of its tensors and the file holding its metadata
    /// (the first part; a path naming a later part of a split model is taken to mean the model).
    /// </summary>
    public static ITensorStore OpenModel(string path, out GgufFile metadata)
    {
        if (PartPaths(path) is { } parts && !string.Equals(parts[0], path, StringComparison.Ordinal) && File.Exists(parts[0]))
            path = parts[0];
        var first = GgufFile.Open(path);
        if ((first.GetInteger(CountKey) ?? 1) <= 1)
        {
            metadata = first;
            return first;
        }
        try
        {
            var split = Open(first);
            metadata = first;
            return split;
        }
        catch
        {
            first.Dispose();
            throw;
        }
    }

    /// <summary>The paths of every part, given the path of any one of them, or null when the name is not of the split form.</summary>
    public static string[]? PartPaths(string path)
    {
        var m = SplitName().Match(System.IO.Path.GetFileName(path));
        if (!m.Success) return null;
        int count = int.Parse(m.Groups["count"].Value);
        string dir = System.IO.Path.GetDirectoryName(path) ?? "";
        string prefix = m.Groups["prefix"].Value;
        return Enumerable.Range(1, count).Select(i => System.IO.Path.Combine(dir, $"{prefix}-{i:D5}-of-{count:D5}.gguf")).ToArray();
    }

    /// <summary>
    /// Opens the remaining parts of a split model whose first part is open, checking that they
    /// belong together (index, count, total tensors, no tensor twice). Takes ownership of first.
    /// </summary>
    public static GgufSplitModel Open(GgufFile first)
    {
        int count = (int)(first.GetInteger(CountKey) ?? 1);
        var paths = PartPaths(first.Path);
        if (paths == null || paths.Length != count)
            throw new RetortException(
                $"{first.Path}: the file is part of a split model ({CountKey} = {count}) but its name is not PREFIX-00001-of-{count:D5}.gguf, so the other parts cannot be found");
        var parts = new GgufFile[count];
        parts[0] = first;
        try
        {
            for (int i = 1; i < count; i++)
            {
                if (!File.Exists(paths[i]))
                    throw new RetortException($"{first.Path}: split model part {i + 1} of {count} is missing: expected '{paths[i]}'");
                parts[i] = GgufFile.Open(paths[i]);
            }
            var tensors = new Dictionary<string, TensorData>(StringComparer.Ordinal);
            for (int i = 0; i < count; i++)
            {
                var part = parts[i];
                long index = part.GetInteger(IndexKey) ?? -1, partCount = part.GetInteger(CountKey) ?? -1;
                if (index != i || partCount != count)
                    throw new RetortException($"{part.Path}: expected split part {i} of {count} ({IndexKey}, {CountKey}), found {index} of {partCount}");
                foreach (var (name, tensor) in part.Tensors)
                {
                    if (!tensors.TryAdd(name, tensor))
                        throw new RetortException($"{part.Path}: tensor '{name}' is also in an earlier part of the split model");
                }
            }
            if (first.GetInteger(TensorCountKey) is long expected && expected != tensors.Count)
                throw new RetortException($"{first.Path}: the split model should hold {expected} tensors ({TensorCountKey}) but its {count} parts hold {tensors.Count}");
            return new GgufSplitModel(parts, tensors);
        }
        catch
        {
            for (int i = 1; i < count; i++) parts[i]?.Dispose();
            throw;
        }
    }

    string ITensorLocator.Locate(string name)
    {
        var part = _parts.FirstOrDefault(p => p.Tensors.ContainsKey(name)) ?? _parts[0];
        return ((ITensorLocator)part).Locate(name);
    }

    string ITensorLocator.FormatShape(IReadOnlyList<long> ggmlShape) => ((ITensorLocator)_parts[0]).FormatShape(ggmlShape);

    public void Dispose()
    {
        foreach (var part in _parts) part?.Dispose();
    }

    [GeneratedRegex(@"^(?<prefix>.+)-(?<index>\d{5})-of-(?<count>\d{5})\.gguf$", RegexOptions.IgnoreCase)]
    private static partial Regex SplitName();
}
