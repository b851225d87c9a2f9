using System.Reflection;
using Retort.Engine.Tokenization;

namespace Retort.Engine.Templates;

/// <summary>
/// Chat templates for model files that carry none (many GGUFs, including llama.cpp conversions
/// of DeepSeek-R1 distills, omit tokenizer.chat_template). The template is chosen by the special
/// tokens the vocabulary defines, so it always matches the tokens the model was trained on.
/// </summary>
internal static class BuiltInTemplates
{
    /// <summary>The name and source of the template that fits <paramref name="tokenizer"/>, or null.</summary>
    public static (string Name, string Source)? For(Tokenizer tokenizer)
    {
        string? name =
            tokenizer.TokenToId("<｜Assistant｜>") != null && tokenizer.TokenToId("<｜User｜>") != null ? "deepseek-r1"
            : tokenizer.TokenToId("<|start_header_id|>") != null && tokenizer.TokenToId("<|eot_id|>") != null ? "llama3"
            : tokenizer.TokenToId("<|im_start|>") != null && tokenizer.TokenToId("<|im_end|>") != null ? "chatml"
            : null;
        return name == null ? null : (name, Read(name));
    }

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Retort.Engine.Templates.BuiltIn.{name}.jinja")
            ?? throw new InvalidOperationException($"built-in template '{name}' is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
