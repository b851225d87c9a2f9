using System.CommandLine;
using System.Diagnostics;
using Retort.Engine;
using Retort.Training.Lora;

namespace Retort.Cli.Commands;

/// <summary><c>retort lora merge BASE ADAPTER OUT</c>: folds a PEFT LoRA adapter into its base model.</summary>
internal static class LoraCommand
{
    public static Command Create(CliIo io)
    {
        var baseModel = new Argument<string>("BASE") { Description = "the base model: a Hugging Face folder" };
        var adapter = new Argument<string>("ADAPTER") { Description = "a PEFT adapter folder (adapter_config.json, adapter_model.safetensors)" };
        var output = new Argument<string>("OUT") { Description = "the merged Hugging Face folder to write" };
        var threads = ThreadsOption.Create();
        var merge = new Command("merge", "Merge a LoRA adapter into its base: W + (alpha/r)·B·A, written as a plain HF folder")
        {
            baseModel, adapter, output, threads,
        };
        merge.SetAction(result =>
        {
            string basePath = result.GetValue(baseModel)!, adapterPath = result.GetValue(adapter)!, outPath = result.GetValue(output)!;
            if (!Directory.Exists(basePath)) throw new RetortException($"folder not found: '{basePath}' (expected a Hugging Face model folder)");
            if (!Directory.Exists(adapterPath)) throw new RetortException($"folder not found: '{adapterPath}' (expected a PEFT adapter folder)");
            var clock = Stopwatch.StartNew();
            PeftAdapter.Merge(basePath, adapterPath, outPath, ThreadsOption.Read(result, threads));
            io.Out.WriteLine($"wrote {outPath} in {clock.Elapsed.TotalSeconds:0.0} s");
            return 0;
        });
        return new Command("lora", "LoRA adapters") { merge };
    }
}
