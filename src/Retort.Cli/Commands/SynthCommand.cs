using System.CommandLine;
using System.Diagnostics;
using Retort.Engine;
using Retort.Engine.Synthesis;

namespace Retort.Cli.Commands;

/// <summary><c>retort synth --preset NAME --type TYPE --tokenizer DIR OUT.gguf</c>: a random-weight model for benchmarks.</summary>
internal static class SynthCommand
{
    public static Command Create(CliIo io)
    {
        var output = new Argument<string>("OUT") { Description = "the .gguf file to write" };
        var preset = new Option<string?>("--preset")
        {
            Description = $"a model shape: {string.Join(", ", SynthPreset.All.Select(p => p.Name))}",
        };
        var config = new Option<string?>("--config") { Description = "a Hugging Face config.json to take the shape from instead of a preset" };
        var type = new Option<string>("--type")
        {
            Description = "weight type of the matrices: f32, f16, bf16, q8_0, q4_0, q4_k_m (llama.cpp's Q4_K/Q6_K mix)",
            DefaultValueFactory = _ => "q4_0",
        };
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "a Hugging Face tokenizer folder (tokenizer.json, tokenizer_config.json, chat template)",
            Required = true,
        };
        var seed = new Option<ulong>("--seed") { Description = "random seed of the weights", DefaultValueFactory = _ => 42 };
        var command = new Command("synth", "Write a GGUF with random weights in a model's exact shape (for benchmarks)")
        {
            output, preset, config, type, tokenizer, seed,
        };
        command.SetAction(result =>
        {
            string? presetName = result.GetValue(preset), configPath = result.GetValue(config);
            string tokenizerDir = result.GetValue(tokenizer)!;
            if ((presetName == null) == (configPath == null))
                throw new RetortException("give exactly one of --preset NAME or --config config.json");
            SynthPreset shape = presetName != null ? SynthPreset.Find(presetName) : SyntheticModel.FromHfConfig(configPath!);
            string typeName = result.GetValue(type)!;
            SyntheticModel.ParseType(typeName); // a bad --type fails before the tokenizer is read
            var clock = Stopwatch.StartNew();
            int tensors = SyntheticModel.Write(shape, typeName, tokenizerDir, result.GetValue(output)!, result.GetValue(seed));
            long bytes = new FileInfo(result.GetValue(output)!).Length;
            io.Out.WriteLine($"wrote {result.GetValue(output)}: {shape.Name}, {typeName}, {tensors} tensors, " +
                             $"{bytes / 1e6:F1} MB in {clock.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return command;
    }
}
