using System.Text.Json;
using System.Text.Json.Nodes;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

/// <summary>
/// An f32 GGUF of about 280 MB (`retort synth`, hidden 1024, 4 layers, MLP 4096), made once for the tests that
/// need a `retort quantize` that runs for a few seconds, long enough to be signalled mid-write.
/// </summary>
public sealed class LargeModelFixture : IDisposable
{
    public LargeModelFixture()
    {
        Folder = Directory.CreateTempSubdirectory("retort-large-").FullName;
        var config = JsonNode.Parse(File.ReadAllText(Fixtures.Path("qwen2-tiny", "hf", "config.json")))!.AsObject();
        config["hidden_size"] = 1024;
        config["intermediate_size"] = 4096;
        config["num_hidden_layers"] = 4;
        config["num_attention_heads"] = 8;
        config["num_key_value_heads"] = 2;
        config["layer_types"] = new JsonArray("full_attention", "full_attention", "full_attention", "full_attention");
        string configPath = Path.Combine(Folder, "config.json");
        File.WriteAllText(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Model = Path.Combine(Folder, "large-f32.gguf");
        var (code, _, err) = CliRunner.Run("synth", "--config", configPath, "--type", "f32", "--tokenizer", Fixtures.Path("qwen2-tiny", "hf"), Model);
        if (code != 0) throw new InvalidOperationException("retort synth failed: " + err);
    }

    public string Folder { get; }

    public string Model { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
