using Retort.Distillation.Numerics;

namespace Retort.Distillation.Evaluation;

/// <summary>An answer in comparable form: its canonical text, its exact value when it is a number, and whether it was a percentage.</summary>
internal sealed record NormalizedAnswer(string Text, Rational? Value, bool Percent);
