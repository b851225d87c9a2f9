using System.Text.Json;
using Retort.Engine.Formats.SafeTensors;
using Retort.Training.Lora;
using Retort.Training.Model;
using Retort.Training.Tests.Support;

namespace Retort.Training.Tests.Lora;

public class PeftAdapterTests
{
    private static readonly LoraOptions Options = new() { Rank = 4, Alpha = 8, Targets = ["q_proj", "v_proj"] };

    [Fact]
    public void SavesPeftNamesAndConfig()
    {
        using var runs = new TrainingRuns();
        using var model = TrainingRuns.Student();
        model.AttachLora(Options, seed: 1);
        string dir = Path.Combine(runs.Root, "adapter");
        PeftAdapter.Save(model, dir, "qwen2-micro");

        using var file = SafeTensorsFile.Open(Path.Combine(dir, "adapter_model.safetensors"));
        var names = file.Tensors.Keys.Order().ToArray();
        Assert.Equal(8, names.Length);
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", names);
        Assert.Contains("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", names);
        // PyTorch shapes: A [r, in], B [out, r] (ggml order reverses them).
        Assert.Equal([64L, 4], file.Tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].Shape);
        Assert.Equal([4L, 32], file.Tensors["base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight"].Shape);

        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json"))).RootElement;
        Assert.Equal("LORA", config.GetProperty("peft_type").GetString());
        Assert.Equal(4, config.GetProperty("r").GetInt32());
        Assert.Equal(8, config.GetProperty("lora_alpha").GetDouble());
        Assert.Equal(["q_proj", "v_proj"], config.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void MergedFolderComputesWhatBasePlusAdapterComputes()
    {
        using var runs = new TrainingRuns();
        var batch = TrainingReference.Batch();
        string adapter = Path.Combine(runs.Root, "adapter");
        float[] expected;
        using (var model = TrainingRuns.Student())
        {
            model.AttachLora(Options, seed: 1);
            // The fixture's trained-looking adapters (B is not zero, so the merge changes the weights).
            foreach (var p in model.LoraParameters) TrainingReference.Tensors["lora.weight." + p.Name].CopyTo(p.Value, 0);
            expected = model.Forward(batch)[..(batch.TokenCount * TrainingReference.Vocabulary)];
            PeftAdapter.Save(model, adapter, TrainingRuns.StudentFolder);
        }
        string merged = Path.Combine(runs.Root, "merged");
        PeftAdapter.Merge(TrainingRuns.StudentFolder, adapter, merged, threads: 2);

        using var plain = StudentModel.Load(merged, threads: 2);
        plain.OutputVocabulary = TrainingReference.Vocabulary;
        var actual = plain.Forward(batch)[..expected.Length];
        Assert.True(GradientAssert.ScaledError(actual, expected) < 1e-5);
        using var unmerged = TrainingRuns.Student();
        Assert.True(GradientAssert.ScaledError(unmerged.Forward(batch)[..expected.Length], expected) > 1e-3);
        Assert.True(File.Exists(Path.Combine(merged, "tokenizer.json")));
    }

    [Fact]
    public void BadTargetIsAClearError()
    {
        var e = Assert.Throws<Retort.Engine.RetortException>(() => (Options with { Targets = ["qproj"] }).Validate());
        Assert.Contains("'qproj'", e.Message);
    }
}
