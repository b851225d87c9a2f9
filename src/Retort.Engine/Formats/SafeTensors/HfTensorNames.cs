namespace Retort.Engine.Formats.SafeTensors;

/// <summary>Maps Hugging Face Llama/Qwen2 parameter names to the GGUF names the engine uses.</summary>
internal static class HfTensorNames
{
    private const string LayerPrefix = "model.layers.";

    private static readonly Dictionary<string, string> LayerModules = new(StringComparer.Ordinal)
    {
        ["input_layernorm"] = "attn_norm",
        ["post_attention_layernorm"] = "ffn_norm",
        ["self_attn.q_proj"] = "attn_q",
        ["self_attn.k_proj"] = "attn_k",
        ["self_attn.v_proj"] = "attn_v",
        ["self_attn.o_proj"] = "attn_output",
        ["mlp.gate_proj"] = "ffn_gate",
        ["mlp.up_proj"] = "ffn_up",
        ["mlp.down_proj"] = "ffn_down",
    };

    private static readonly Dictionary<string, string> HfModules = LayerModules.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>The Hugging Face name of a GGUF name from this table, or the name unchanged.</summary>
    public static string ToHf(string gguf)
    {
        switch (gguf)
        {
            case "token_embd.weight": return "model.embed_tokens.weight";
            case "output_norm.weight": return "model.norm.weight";
            case "output.weight": return "lm_head.weight";
        }
        string[] parts = gguf.Split('.');
        if (parts.Length == 4 && parts[0] == "blk" && parts[1].All(char.IsAsciiDigit) && HfModules.TryGetValue(parts[2], out string? module))
            return $"{LayerPrefix}{parts[1]}.{module}.{parts[3]}";
        return gguf;
    }

    /// <summary>The GGUF name, or the HF name unchanged when it is not one Retort knows.</summary>
    public static string ToGguf(string hf)
    {
        switch (hf)
        {
            case "model.embed_tokens.weight": return "token_embd.weight";
            case "model.norm.weight": return "output_norm.weight";
            case "lm_head.weight": return "output.weight";
        }
        if (!hf.StartsWith(LayerPrefix, StringComparison.Ordinal)) return hf;
        int dot = hf.IndexOf('.', LayerPrefix.Length);
        if (dot <= LayerPrefix.Length) return hf;
        ReadOnlySpan<char> index = hf.AsSpan(LayerPrefix.Length, dot - LayerPrefix.Length);
        foreach (char c in index)
            if (c is < '0' or > '9') return hf;
        string rest = hf[(dot + 1)..];
        int last = rest.LastIndexOf('.');
        if (last <= 0) return hf;
        string suffix = rest[(last + 1)..];
        if (suffix is not ("weight" or "bias")) return hf;
        return LayerModules.TryGetValue(rest[..last], out string? module) ? $"blk.{index}.{module}.{suffix}" : hf;
    }
}
