namespace Retort.Engine.Model;

/// <summary>The weights of one decoder block: pre-norm attention then pre-norm SwiGLU MLP.</summary>
internal sealed class TransformerLayer
{
    public required float[] AttentionNorm { get; init; }
    public required Linear Query { get; init; }
    public required Linear Key { get; init; }
    public required Linear Value { get; init; }
    public required Linear Output { get; init; }
    public required float[] FeedForwardNorm { get; init; }
    public required Linear Gate { get; init; }
    public required Linear Up { get; init; }
    public required Linear Down { get; init; }
}
