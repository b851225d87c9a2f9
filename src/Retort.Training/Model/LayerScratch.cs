namespace Retort.Training.Model;

/// <summary>Gradient buffers the layers share during one backward pass (one layer at a time uses them).</summary>
internal sealed class LayerScratch
{
    public float[] Hidden = [];
    public float[] Query = [];
    public float[] Key = [];
    public float[] Value = [];
    public float[] Attention = [];
    public float[] Gate = [];
    public float[] Up = [];
    public float[] Activation = [];

    public void Ensure(int tokens, int hidden, int querySize, int kvSize, int feedForward)
    {
        Grow(ref Hidden, tokens * hidden);
        Grow(ref Query, tokens * querySize);
        Grow(ref Key, tokens * kvSize);
        Grow(ref Value, tokens * kvSize);
        Grow(ref Attention, tokens * querySize);
        Grow(ref Gate, tokens * feedForward);
        Grow(ref Up, tokens * feedForward);
        Grow(ref Activation, tokens * feedForward);
    }

    internal static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
