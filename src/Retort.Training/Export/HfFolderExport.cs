using System.Text.Json;
using System.Text.Json.Nodes;
using Retort.Engine;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.IO;
using Retort.Training.Model;

namespace Retort.Training.Export;

/// <summary>
/// Writes a student as a Hugging Face folder (config.json, model.safetensors, the tokenizer files
/// of the model it came from), so transformers, llama.cpp's converter and Retort itself load it.
/// The folder is built beside the target and renamed into place (<see cref="AtomicFile.WriteFolder"/>),
/// so a crash or an interruption never leaves a half-written model under the target name.
/// </summary>
public static class HfFolderExport
{
    private static readonly string[] TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json", "special_tokens_map.json"];

    /// <param name="sourceFolder">The HF folder whose config.json (as a base) and tokenizer files are copied; null writes a config from the model alone.</param>
    public static void Write(StudentModel model, string outDir, string? sourceFolder, bool bf16 = false, CancellationToken cancellationToken = default)
    {
        AtomicFile.WriteFolder(outDir, temp =>
        {
            File.WriteAllText(Path.Combine(temp, "config.json"), ConfigJson(model, sourceFolder, bf16));
            var tensors = model.BaseParameters.Select(p => (p.Name, p.Shape, p.Value));
            SafeTensorsWriter.Write(Path.Combine(temp, "model.safetensors"), tensors, bf16, new Dictionary<string, string> { ["format"] = "pt" }, cancellationToken);
            if (sourceFolder == null) return;
            foreach (string name in TokenizerFiles)
            {
                string source = Path.Combine(sourceFolder, name);
                if (File.Exists(source)) File.Copy(source, Path.Combine(temp, name));
            }
        }, cancellationToken);
    }

    private static string ConfigJson(StudentModel model, string? sourceFolder, bool bf16)
    {
        var c = model.Config;
        JsonObject config;
        string? sourceConfig = sourceFolder == null ? null : Path.Combine(sourceFolder, "config.json");
        if (sourceConfig != null && File.Exists(sourceConfig))
        {
            config = JsonNode.Parse(File.ReadAllText(sourceConfig)) as JsonObject
                ?? throw new RetortException($"{sourceConfig}: expected a JSON object");
        }
        else
        {
            bool qwen = c.Architecture == "qwen2";
            config = new JsonObject
            {
                ["architectures"] = new JsonArray(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"),
                ["model_type"] = c.Architecture,
                ["hidden_act"] = "silu",
                ["rope_parameters"] = new JsonObject { ["rope_theta"] = c.RopeTheta, ["rope_type"] = "default" },
            };
            if (!qwen) config["attention_bias"] = false;
        }
        config["hidden_size"] = c.HiddenSize;
        config["num_hidden_layers"] = c.LayerCount;
        config["num_attention_heads"] = c.HeadCount;
        config["num_key_value_heads"] = c.KvHeadCount;
        config["head_dim"] = c.HeadDim;
        config["intermediate_size"] = c.FeedForwardSize;
        config["vocab_size"] = c.VocabSize;
        config["rms_norm_eps"] = c.RmsNormEps;
        config["max_position_embeddings"] = c.ContextLength;
        config["tie_word_embeddings"] = model.TiedEmbeddings;
        config["dtype"] = bf16 ? "bfloat16" : "float32";
        config.Remove("torch_dtype");
        return config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
