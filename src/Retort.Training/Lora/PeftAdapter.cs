using System.Text.Json;
using System.Text.Json.Nodes;
using Retort.Engine;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.IO;
using Retort.Engine.Quantization;
using Retort.Training.Export;
using Retort.Training.Model;

namespace Retort.Training.Lora;

/// <summary>
/// LoRA adapters in PEFT's on-disk form: adapter_config.json and adapter_model.safetensors with
/// tensors named base_model.model.&lt;module&gt;.lora_A.weight / lora_B.weight, as
/// PeftModel.save_pretrained writes them and PeftModel.from_pretrained reads them.
/// </summary>
public static class PeftAdapter
{
    public const string Prefix = "base_model.model.";
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    /// <summary>Writes the model's adapters into <paramref name="dir"/> (built aside, then renamed into place).</summary>
    public static void Save(StudentModel model, string dir, string? baseModel, CancellationToken cancellationToken = default)
    {
        var options = model.Lora ?? throw new InvalidOperationException("the model has no LoRA adapters to save");
        AtomicFile.WriteFolder(dir, temp =>
        {
            var config = new JsonObject
            {
                ["peft_type"] = "LORA",
                ["task_type"] = "CAUSAL_LM",
                ["base_model_name_or_path"] = baseModel,
                ["r"] = options.Rank,
                ["lora_alpha"] = options.Alpha,
                ["lora_dropout"] = options.Dropout,
                ["target_modules"] = new JsonArray(options.Targets.Select(t => (JsonNode?)t).ToArray()),
                ["bias"] = "none",
                ["fan_in_fan_out"] = false,
                ["inference_mode"] = true,
                ["init_lora_weights"] = true,
                ["use_rslora"] = false,
                ["use_dora"] = false,
                ["modules_to_save"] = null,
                ["layers_to_transform"] = null,
            };
            File.WriteAllText(Path.Combine(temp, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            SafeTensorsWriter.Write(Path.Combine(temp, WeightsFile),
                model.LoraParameters.Select(p => (Prefix + p.Name, p.Shape, p.Value)),
                metadata: new Dictionary<string, string> { ["format"] = "pt" }, cancellationToken: cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Reads an adapter folder: its options and tensors by module name (without the PEFT prefix).</summary>
    public static (LoraOptions Options, Dictionary<string, float[]> Tensors) Load(string dir)
    {
        string configPath = Path.Combine(dir, ConfigFile);
        string weightsPath = Path.Combine(dir, WeightsFile);
        if (!File.Exists(configPath) || !File.Exists(weightsPath))
            throw new RetortException($"'{dir}' is not a LoRA adapter folder: expected {ConfigFile} and {WeightsFile}");
        JsonElement json;
        try
        {
            json = JsonDocument.Parse(File.ReadAllText(configPath)).RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new RetortException($"{configPath}: not valid JSON ({e.Message})");
        }
        if (json.TryGetProperty("peft_type", out var type) && type.GetString() != "LORA")
            throw new RetortException($"{configPath}: peft_type is '{type.GetString()}', expected 'LORA'");
        if (json.TryGetProperty("use_dora", out var dora) && dora.ValueKind == JsonValueKind.True)
            throw new RetortException($"{configPath}: DoRA adapters are not supported (use_dora is true)");
        int rank = json.TryGetProperty("r", out var r) && r.TryGetInt32(out int ri) ? ri : throw new RetortException($"{configPath}: needs an integer 'r'");
        double alpha = json.TryGetProperty("lora_alpha", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetDouble() : rank;
        if (json.TryGetProperty("use_rslora", out var rs) && rs.ValueKind == JsonValueKind.True)
            throw new RetortException($"{configPath}: rsLoRA scaling (use_rslora) is not supported");
        string[] targets = json.TryGetProperty("target_modules", out var t) && t.ValueKind == JsonValueKind.Array
            ? t.EnumerateArray().Select(e => e.GetString() ?? "").ToArray()
            : throw new RetortException($"{configPath}: needs a list 'target_modules'");
        var options = new LoraOptions { Rank = rank, Alpha = alpha, Targets = targets };
        options.Validate();

        using var file = SafeTensorsFile.Open(weightsPath);
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var tensor in file.TensorList)
        {
            string name = tensor.Name.StartsWith(Prefix, StringComparison.Ordinal) ? tensor.Name[Prefix.Length..] : tensor.Name;
            // PEFT versions differ on whether the adapter name is kept in saved keys.
            name = name.Replace(".lora_A.default.", ".lora_A.").Replace(".lora_B.default.", ".lora_B.");
            tensors[name] = Dequantize.Tensor(tensor);
        }
        return (options, tensors);
    }

    /// <summary>Attaches an adapter folder's weights to a loaded base model (base frozen).</summary>
    public static void Attach(StudentModel model, string dir)
    {
        var (options, tensors) = Load(dir);
        model.AttachLora(options, seed: 0);
        foreach (var p in model.LoraParameters)
        {
            if (!tensors.TryGetValue(p.Name, out var value))
                throw new RetortException($"{Path.Combine(dir, WeightsFile)}: tensor '{Prefix + p.Name}' is missing");
            if (value.Length != p.Length)
                throw new RetortException($"{Path.Combine(dir, WeightsFile)}: tensor '{Prefix + p.Name}' has {value.Length} values, expected {p.Length} ([{string.Join(", ", p.Shape)}])");
            value.CopyTo(p.Value, 0);
        }
    }

    /// <summary>`retort lora merge`: base + adapter → a plain HF folder with W + (alpha/r)·B·A.</summary>
    public static void Merge(string baseFolder, string adapterDir, string outDir, int threads = 0)
    {
        using var model = StudentModel.Load(baseFolder, threads);
        Attach(model, adapterDir);
        model.MergeLora();
        HfFolderExport.Write(model, outDir, baseFolder);
    }
}
