namespace Retort.Training.Model;

/// <summary>
/// One trainable tensor: float32 master values and the gradient accumulated into it, named and
/// shaped as in PyTorch (Hugging Face names, [out, in] for a linear weight, row-major).
/// </summary>
public sealed class Parameter
{
    internal Parameter(string name, int[] shape, float[] value, bool trainable)
    {
        long count = 1;
        foreach (int d in shape) count *= d;
        if (value.Length != count)
            throw new ArgumentException($"parameter '{name}': {value.Length} values for shape [{string.Join(", ", shape)}]");
        Name = name;
        Shape = shape;
        Value = value;
        Trainable = trainable;
    }

    public string Name { get; }

    public IReadOnlyList<int> Shape { get; }

    public float[] Value { get; }

    /// <summary>d loss / d value, summed over the backward passes since the last <see cref="ClearGradient"/>; empty when frozen.</summary>
    public float[] Gradient { get; private set; } = [];

    /// <summary>Frozen parameters get no gradient (their input gradients still flow through).</summary>
    public bool Trainable
    {
        get;
        set
        {
            field = value;
            Gradient = value ? (Gradient.Length == Value.Length ? Gradient : new float[Value.Length]) : [];
        }
    }

    public int Length => Value.Length;

    public void ClearGradient() => Array.Clear(Gradient);

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
