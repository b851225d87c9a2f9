using Retort.Training.Losses;

namespace Retort.Training.Loop;

/// <summary>The loss of one batch from the student's logits (and the teachers'), with d loss / d logits.</summary>
internal static class DistillationObjective
{
    /// <summary>
    /// Returns the loss; writes the gradient (scaled by <paramref name="scale"/>) into gradient.
    /// <paramref name="fraction"/> is where the run stands (0 first step, 1 last) for the linear schedules.
    /// </summary>
    public static double Compute(TrainingOptions o, ReadOnlySpan<float> student, IReadOnlyList<float[]> teachers, IReadOnlyList<double> weights,
        ReadOnlySpan<int> targets, int vocabulary, Span<float> gradient, double scale, double fraction)
    {
        double loss;
        if (o.Loss == LossKind.Sft)
        {
            loss = TokenLosses.CrossEntropy(student, targets, vocabulary, gradient);
        }
        else
        {
            var unit = new double[targets.Length];
            Array.Fill(unit, 1.0);
            // The target at T = 1 feeds the adaptive schedule's entropy and the gradient-matching MSE.
            var targetAtOne = TeacherTargets.Mixture(teachers, weights, unit, vocabulary);
            var temperatures = TeacherTargets.RowTemperatures(o, fraction, targetAtOne, vocabulary);
            var target = o.TemperatureSchedule == TemperatureSchedule.Constant && o.Temperature == 1
                ? targetAtOne
                : TeacherTargets.Mixture(teachers, weights, temperatures, vocabulary);
            var part = new float[gradient.Length];
            if (o.Loss == LossKind.GradientMatch)
            {
                double lambda = TeacherTargets.Linear(o.GradientMatchLambdaStart, o.GradientMatchLambdaEnd, fraction);
                double mse = TokenLosses.GradientMatchingMse(student, targetAtOne, targets, vocabulary, part);
                double kl = TokenLosses.ForwardKl(student, target, targets, vocabulary, temperatures, gradient);
                for (int i = 0; i < gradient.Length; i++) gradient[i] = (float)(lambda * part[i] + (1 - lambda) * gradient[i]);
                loss = lambda * mse + (1 - lambda) * kl;
            }
            else
            {
                double ce = TokenLosses.CrossEntropy(student, targets, vocabulary, part);
                double divergence = o.Loss switch
                {
                    LossKind.Kd => TokenLosses.ForwardKl(student, target, targets, vocabulary, temperatures, gradient),
                    LossKind.ReverseKl => TokenLosses.ReverseKl(student, target, targets, vocabulary, temperatures, gradient),
                    _ => TokenLosses.GeneralizedJsd(student, target, targets, vocabulary, o.JsdBeta, temperatures, gradient),
                };
                for (int i = 0; i < gradient.Length; i++) gradient[i] = (float)(o.Alpha * part[i] + (1 - o.Alpha) * gradient[i]);
                loss = o.Alpha * ce + (1 - o.Alpha) * divergence;
            }
        }
        if (scale != 1)
            for (int i = 0; i < gradient.Length; i++) gradient[i] = (float)(gradient[i] * scale);
        return loss;
    }
}
