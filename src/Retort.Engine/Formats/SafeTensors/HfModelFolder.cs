using System.Text.Json;
using Retort.Engine.IO;
using Retort.Engine.Tensors;

namespace Retort.Engine.Formats.SafeTensors;

/// <summary>
/// A Hugging Face model folder: config.json plus model.safetensors or a sharded set listed in
/// model.safetensors.index.json. Tensors are exposed under GGUF names (see architecture.md);
/// names Retort does not recognise are kept as they are. Disposing closes every shard.
/// </summary>
public sealed class HfModelFolder : ITensorStore, ITensorLocator
{
    private readonly List<SafeTensorsFile> _files;
    private readonly Dictionary<string, string> _fileOf;
    private readonly string _weightsFile;

    private HfModelFolder(string directory, JsonElement config, List<SafeTensorsFile> files, Dictionary<string, TensorData> tensors,
        Dictionary<string, string> fileOf, string weightsFile)
    {
        _fileOf = fileOf;
        _weightsFile = weightsFile;
        Directory = directory;
        Config = config;
        _files = files;
        Tensors = tensors;
    }

    public string Directory { get; }

    /// <summary>The parsed config.json (a detached clone; valid after disposal).</summary>
    public JsonElement Config { get; }

    /// <summary>The safetensors files backing the tensors.</summary>
    public IReadOnlyList<SafeTensorsFile> Files => _files;

    public IReadOnlyDictionary<string, TensorData> Tensors { get; }

    public static HfModelFolder Open(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        string full = Path.GetFullPath(dir);
        if (!System.IO.Directory.Exists(full))
            throw new RetortException($"model folder '{full}' does not exist");
        string configPath = Path.Combine(full, "config.json");
        if (!File.Exists(configPath))
            throw new RetortException($"'{full}' is not a Hugging Face model folder: expected config.json, found none");
        JsonElement config = ReadJson(configPath).RootElement.Clone();
        if (config.ValueKind != JsonValueKind.Object)
            throw new RetortException($"'{configPath}': expected a JSON object, found a JSON {config.ValueKind}");

        var files = new List<SafeTensorsFile>();
        try
        {
            var tensors = new Dictionary<string, TensorData>(StringComparer.Ordinal);
            var fileOf = new Dictionary<string, string>(StringComparer.Ordinal);
            string indexPath = Path.Combine(full, "model.safetensors.index.json");
            string singlePath = Path.Combine(full, "model.safetensors");
            if (File.Exists(indexPath))
                LoadSharded(full, indexPath, files, tensors, fileOf);
            else if (File.Exists(singlePath))
            {
                SafeTensorsFile f = SafeTensorsFile.Open(singlePath);
                files.Add(f);
                foreach (TensorData t in f.TensorList) Add(tensors, fileOf, t, singlePath);
            }
            else
                throw new RetortException($"'{full}': expected model.safetensors or model.safetensors.index.json, found neither");
            return new HfModelFolder(full, config, files, tensors, fileOf, File.Exists(indexPath) ? indexPath : singlePath);
        }
        catch
        {
            foreach (SafeTensorsFile f in files) f.Dispose();
            throw;
        }
    }

    private static void LoadSharded(string dir, string indexPath, List<SafeTensorsFile> files, Dictionary<string, TensorData> tensors,
        Dictionary<string, string> fileOf)
    {
        using JsonDocument index = ReadJson(indexPath);
        if (index.RootElement.ValueKind != JsonValueKind.Object
            || !index.RootElement.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
            throw new RetortException($"'{indexPath}': expected an object with a 'weight_map' object, found none");

        var shards = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        foreach (JsonProperty entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new RetortException($"'{indexPath}': expected weight_map[{MessageText.Quote(entry.Name)}] to be a file name, found a JSON {entry.Value.ValueKind}");
            string shardName = entry.Value.GetString()!;
            // Shards must sit in the folder itself; a path here would let an index reach outside it.
            if (shardName.Length == 0 || shardName != Path.GetFileName(shardName) || shardName is "." or "..")
                throw new RetortException($"'{indexPath}': expected a plain file name for {MessageText.Quote(entry.Name)}, found {MessageText.Quote(shardName)}");
            if (!shards.TryGetValue(shardName, out SafeTensorsFile? shard))
            {
                string shardPath = Path.Combine(dir, shardName);
                if (!File.Exists(shardPath))
                    throw new RetortException($"'{indexPath}': shard {MessageText.Quote(shardName)} (holding {MessageText.Quote(entry.Name)}) is missing from '{dir}'");
                shard = SafeTensorsFile.Open(shardPath);
                files.Add(shard);
                shards.Add(shardName, shard);
            }
            if (!shard.Tensors.TryGetValue(entry.Name, out TensorData? t))
                throw new RetortException($"'{indexPath}': expected tensor {MessageText.Quote(entry.Name)} in shard {MessageText.Quote(shardName)}, found no such tensor there");
            Add(tensors, fileOf, t, shard.Path);
        }
    }

    private static void Add(Dictionary<string, TensorData> tensors, Dictionary<string, string> fileOf, TensorData t, string file)
    {
        string name = HfTensorNames.ToGguf(t.Name);
        var renamed = ReferenceEquals(name, t.Name) ? t : t.WithName(name);
        if (!tensors.TryAdd(name, renamed))
            throw new RetortException($"'{file}': tensor {MessageText.Quote(t.Name)} maps to {MessageText.Quote(name)}, which another tensor already has");
        fileOf.Add(name, file);
    }

    string ITensorLocator.Locate(string name) =>
        $"'{(_fileOf.TryGetValue(name, out string? file) ? file : _weightsFile)}': tensor {MessageText.Quote(HfTensorNames.ToHf(name))}";

    // safetensors and PyTorch write shapes outermost first: [out, in] for a weight.
    string ITensorLocator.FormatShape(IReadOnlyList<long> ggmlShape) => $"[{string.Join(", ", ggmlShape.Reverse())}]";

    /// <summary>Largest config.json or index read (real ones are a few KB; a 1T-parameter index is under 2 MB).</summary>
    private const long MaxJsonBytes = 64L << 20;

    private static JsonDocument ReadJson(string path)
    {
        try
        {
            long length = new FileInfo(path).Length;
            if (length > MaxJsonBytes)
                throw new RetortException($"'{path}': expected a JSON file of at most {MaxJsonBytes >> 20} MiB, found {length} bytes");
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new RetortException($"'{path}': expected valid JSON, found an error at line {e.LineNumber + 1}: {e.Message.Split('\n')[0]}", e);
        }
        catch (IOException e)
        {
            throw new RetortException($"cannot read '{path}': {e.Message}", e);
        }
    }

    public void Dispose()
    {
        foreach (SafeTensorsFile f in _files) f.Dispose();
    }
}
