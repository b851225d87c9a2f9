using System.Text.Json;
using System.Text.Json.Serialization;
using Retort.Engine;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.IO;
using Retort.Engine.Quantization;
using Retort.Training.Model;
using Retort.Training.Optim;

namespace Retort.Training.Loop;

/// <summary>
/// Checkpoints under OUT/checkpoints: one folder per saved step (trainable.safetensors with the
/// trainable parameters, optimizer.safetensors with AdamW's moments, state.json) and a file
/// `latest` naming the newest complete one. A folder is built under a temporary name and renamed
/// when complete, and `latest` is replaced by an atomic move afterwards (both through
/// <see cref="AtomicFile"/>), so a process killed at any point leaves `latest` naming a complete
/// checkpoint (or no `latest` at all).
/// </summary>
internal sealed class CheckpointStore(string outDir)
{
    private const string LatestFile = "latest";
    private const string StateFile = "state.json";
    private const string WeightsFile = "trainable.safetensors";
    private const string OptimizerFile = "optimizer.safetensors";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string Folder { get; } = Path.Combine(outDir, "checkpoints");

    /// <summary>The folder `latest` names, or null when no checkpoint was completed.</summary>
    public string? Latest
    {
        get
        {
            string pointer = Path.Combine(Folder, LatestFile);
            if (!File.Exists(pointer)) return null;
            string name = File.ReadAllText(pointer).Trim();
            string dir = Path.Combine(Folder, name);
            if (name.Length == 0 || name != Path.GetFileName(name) || !File.Exists(Path.Combine(dir, StateFile)))
                throw new RetortException($"{pointer} names '{name}', which is not a complete checkpoint in {Folder}");
            return dir;
        }
    }

    /// <summary>
    /// Writes a checkpoint. It takes no cancellation token on purpose: a stop requested during training lets the
    /// checkpoint of this step finish (it is what a resume starts from); a second Ctrl-C ends the process at once,
    /// and the temporary folder it leaves is removed by the next save once that process is gone.
    /// </summary>
    public string Save(CheckpointState state, IReadOnlyList<Parameter> trainable, IReadOnlyList<AdamW> optimizers, int keep)
    {
        Directory.CreateDirectory(Folder);
        // Leftovers of versions that named temporaries without their process id: never complete.
        foreach (string stale in Directory.EnumerateDirectories(Folder, ".step-*.tmp-*")) Directory.Delete(stale, recursive: true);
        // Temporaries of killed saves, whichever step they were for (AtomicFile keeps those of live processes).
        foreach (string step in Directory.EnumerateDirectories(Folder, "step-*.tmp-*").Select(d => Path.GetFileName(d)!)
                     .Select(n => n[..n.IndexOf(".tmp-", StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal).ToList())
            AtomicFile.RemoveStale(Path.Combine(Folder, step));

        string name = $"step-{state.Step:D7}";
        string final = Path.Combine(Folder, name);
        AtomicFile.WriteFolder(final, temp =>
        {
            SafeTensorsWriter.Write(Path.Combine(temp, WeightsFile), trainable.Select(p => (p.Name, p.Shape, p.Value)));
            SafeTensorsWriter.Write(Path.Combine(temp, OptimizerFile), trainable.SelectMany((p, i) => new[]
            {
                ("m." + p.Name, p.Shape, optimizers[i].FirstMoment),
                ("v." + p.Name, p.Shape, optimizers[i].SecondMoment),
            }));
            AtomicFile.WriteText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
        });
        AtomicFile.WriteText(Path.Combine(Folder, LatestFile), name + "\n");
        Prune(name, keep);
        return final;
    }

    /// <summary>Restores parameters and optimizer moments from the latest checkpoint; returns its state.</summary>
    public CheckpointState Load(IReadOnlyList<Parameter> trainable, IReadOnlyList<AdamW> optimizers)
    {
        string dir = Latest ?? throw new RetortException($"nothing to resume: {Folder} holds no complete checkpoint");
        CheckpointState state;
        try
        {
            state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(Path.Combine(dir, StateFile)), Json)
                ?? throw new RetortException($"{Path.Combine(dir, StateFile)} is empty");
        }
        catch (JsonException e)
        {
            throw new RetortException($"{Path.Combine(dir, StateFile)}: not a valid checkpoint state ({e.Message})");
        }
        using var weights = SafeTensorsFile.Open(Path.Combine(dir, WeightsFile));
        using var moments = SafeTensorsFile.Open(Path.Combine(dir, OptimizerFile));
        for (int i = 0; i < trainable.Count; i++)
        {
            var p = trainable[i];
            Read(weights, p.Name, p.Length).CopyTo(p.Value, 0);
            optimizers[i].Restore(state.Step, Read(moments, "m." + p.Name, p.Length), Read(moments, "v." + p.Name, p.Length));
        }
        if (weights.Tensors.Count != trainable.Count)
            throw new RetortException($"{weights.Path} holds {weights.Tensors.Count} tensors, the model trains {trainable.Count}: was it made with other LoRA settings?");
        return state;
    }

    private static float[] Read(SafeTensorsFile file, string name, int length)
    {
        if (!file.Tensors.TryGetValue(name, out var t))
            throw new RetortException($"{file.Path}: tensor '{name}' is missing (was the checkpoint made for another model or LoRA setting?)");
        var values = Dequantize.Tensor(t);
        if (values.Length != length) throw new RetortException($"{file.Path}: tensor '{name}' has {values.Length} values, expected {length}");
        return values;
    }

    private void Prune(string current, int keep)
    {
        // Only complete checkpoints: a temporary (step-N.tmp-…) or a folder set aside in a swap (step-N.old-…) is not one.
        var old = Directory.EnumerateDirectories(Folder, "step-*").Select(Path.GetFileName)
            .Where(n => n != current && n!["step-".Length..].All(char.IsAsciiDigit)).Order(StringComparer.Ordinal).ToList();
        for (int i = 0; i < old.Count - keep; i++) Directory.Delete(Path.Combine(Folder, old[i]!), recursive: true);
    }
}
