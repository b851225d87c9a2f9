using System.CommandLine;
using System.Diagnostics;
using Retort.Engine;
using Retort.Engine.Conversion;

namespace Retort.Cli.Commands;

/// <summary><c>retort convert HF_DIR OUT.gguf --type TYPE</c>: a Hugging Face folder to GGUF, as llama.cpp's converter writes it.</summary>
internal static class ConvertCommand
{
    public static Command Create(CliIo io)
    {
        var input = new Argument<string>("HF_DIR") { Description = "a Hugging Face model folder (config.json, *.safetensors, tokenizer.json)" };
        var output = new Argument<string>("OUT") { Description = "the GGUF to write (atomically)" };
        var type = new Option<string>("--type") { Description = "f32, f16, bf16, q8_0, q4_0 or q4_k_m", DefaultValueFactory = _ => "f16" };
        var command = new Command("convert", "Convert a Hugging Face folder to GGUF (qwen2 and llama)") { input, output, type };
        command.SetAction(result =>
        {
            string dir = result.GetValue(input)!, outPath = result.GetValue(output)!;
            if (!Directory.Exists(dir)) throw new RetortException($"folder not found: '{dir}' (expected a Hugging Face model folder)");
            using var interruption = new Interruption(io);
            return interruption.Run(io, "convert", cancel =>
            {
                var clock = Stopwatch.StartNew();
                int n = HfToGguf.Convert(dir, outPath, result.GetValue(type)!, cancel);
                io.Out.WriteLine($"wrote {outPath}: {n} tensors, {new FileInfo(outPath).Length / 1048576.0:0.0} MiB in {clock.Elapsed.TotalSeconds:0.0} s");
                return 0;
            });
        });
        return command;
    }
}
