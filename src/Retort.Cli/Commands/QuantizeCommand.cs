using System.CommandLine;
using System.Diagnostics;
using Retort.Engine;
using Retort.Engine.Conversion;

namespace Retort.Cli.Commands;

/// <summary><c>retort quantize IN.gguf OUT.gguf TYPE</c>: re-quantizes a GGUF's weight matrices.</summary>
internal static class QuantizeCommand
{
    public static Command Create(CliIo io)
    {
        var input = new Argument<string>("IN") { Description = "the GGUF to read" };
        var output = new Argument<string>("OUT") { Description = "the GGUF to write (atomically)" };
        var type = new Argument<string>("TYPE") { Description = "f32, f16, bf16, q8_0, q4_0 or q4_k_m" };
        var command = new Command("quantize", "Re-quantize the weight matrices of a GGUF (norms and biases stay F32)")
        {
            input, output, type,
        };
        command.SetAction(result =>
        {
            string inPath = result.GetValue(input)!, outPath = result.GetValue(output)!;
            if (!File.Exists(inPath)) throw new RetortException($"model not found: '{inPath}' (expected a .gguf file)");
            if (Path.GetFullPath(inPath) == Path.GetFullPath(outPath))
                throw new RetortException($"'{outPath}' is the input file: write the quantized model to another path");
            using var interruption = new Interruption(io);
            return interruption.Run(io, "quantize", cancel =>
            {
                var clock = Stopwatch.StartNew();
                int n = GgufRequantizer.Requantize(inPath, outPath, result.GetValue(type)!, cancel);
                io.Out.WriteLine($"wrote {outPath}: {n} weight matrices as {result.GetValue(type)}, " +
                                 $"{new FileInfo(outPath).Length / 1048576.0:0.0} MiB in {clock.Elapsed.TotalSeconds:0.0} s");
                return 0;
            });
        });
        return command;
    }
}
