namespace Retort.Engine.Tensors;

/// <summary>
/// A tensor store that can say where a tensor lives, so that a check of the weights can name the
/// file and the tensor as that file calls it (a safetensors folder's Hugging Face name, not the
/// GGUF name the engine uses inside).
/// </summary>
internal interface ITensorLocator
{
    /// <summary>
    /// "'…/model.safetensors': tensor 'model.layers.0.self_attn.k_proj.bias'" for a tensor the store
    /// holds, or the file where it would be for one it lacks; <paramref name="name"/> is the GGUF name.
    /// </summary>
    string Locate(string name);

    /// <summary>A shape (ggml order, innermost first) written the way the file writes it.</summary>
    string FormatShape(IReadOnlyList<long> ggmlShape);
}
