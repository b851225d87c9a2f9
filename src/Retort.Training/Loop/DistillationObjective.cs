using Retort.Training.Losses;

namespace Retort.Training.Loop;

/// <summary>The loss of one batch from the student's logits (and the teacher's), with d loss / d logits.</summary>
internal static class DistillationObjective
{
    /// <summary>Returns the loss; writes the gradient (scaled by <paramref name="scale"/>) into gradient.</summary>
    public static double Compute(TrainingOptions o, ReadOnlySpan<float> student, ReadOnlySpan<float> teacher, ReadOnlySpan<int> targets,
        int vocabulary, Span<float> gradient, double scale)
    {
        double loss;
        if (o.Loss == LossKind.Sft)
        {
            loss = TokenLosses.CrossEntropy(student, targets, vocabulary, gradient);
        }
        else if (o.Loss == LossKind.Kd)
        {
            loss = TokenLosses.Distillation(student, teacher, targets, vocabulary, o.Temperature, o.Alpha, gradient).Total;
        }
        else
        {
            var ce = new float[gradient.Length];
            double ceLoss = TokenLosses.CrossEntropy(student, targets, vocabulary, ce);
            double divergence = o.Loss == LossKind.ReverseKl
                ? TokenLosses.ReverseKl(student, teacher, targets, vocabulary, o.Temperature, gradient)
                : TokenLosses.GeneralizedJsd(student, teacher, targets, vocabulary, o.JsdBeta, o.Temperature, gradient);
            for (int i = 0; i < gradient.Length; i++) gradient[i] = (float)(o.Alpha * ce[i] + (1 - o.Alpha) * gradient[i]);
            loss = o.Alpha * ceLoss + (1 - o.Alpha) * divergence;
        }
        if (scale != 1)
            for (int i = 0; i < gradient.Length; i++) gradient[i] = (float)(gradient[i] * scale);
        return loss;
    }
}
