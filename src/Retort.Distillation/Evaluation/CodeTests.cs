namespace Retort.Distillation.Evaluation;

/// <summary>
/// The hidden tests of a code answer: the function to call (<see cref="EntryPoint"/>; when the answer
/// defines no function of that name, the last function it defines) and the cases it must pass.
/// Compared by value, so tasks that carry tests stay comparable.
/// </summary>
public sealed record CodeTests(string EntryPoint, IReadOnlyList<CodeTestCase> Cases)
{
    public bool Equals(CodeTests? other) =>
        other is not null && EntryPoint == other.EntryPoint && Cases.SequenceEqual(other.Cases);

    public override int GetHashCode() => Cases.Aggregate(EntryPoint.GetHashCode(StringComparison.Ordinal), HashCode.Combine);
}
