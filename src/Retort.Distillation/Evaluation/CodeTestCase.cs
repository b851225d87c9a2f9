namespace Retort.Distillation.Evaluation;

/// <summary>
/// One hidden test of a code answer, as JSON texts: <see cref="Arguments"/> is the array the function is
/// called with, <see cref="Expected"/> the value it must return (strings, numbers, booleans, lists, null).
/// </summary>
public sealed record CodeTestCase(string Arguments, string Expected);
