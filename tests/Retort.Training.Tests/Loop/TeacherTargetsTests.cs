using Retort.Engine;
using Retort.Training.Losses;
using Retort.Training.Loop;

namespace Retort.Training.Tests.Loop;

/// <summary>Temperature schedules, the multi-teacher mixture and the gradient-matching loss, on tiny logits.</summary>
public class TeacherTargetsTests
{
    private static readonly double Ln2 = Math.Log(2), Ln3 = Math.Log(3);

    private static TrainingOptions Kd(TemperatureSchedule schedule = TemperatureSchedule.Constant, double? end = null) =>
        new() { Loss = LossKind.Kd, Alpha = 0, Temperature = 2, TemperatureSchedule = schedule, TemperatureEnd = end };

    /// <summary>T²·KL(p ‖ softmax(s / T)) per row, the mean over rows: written out independently of TokenLosses.</summary>
    private static double ReferenceKl(double[][] p, float[] student, double[] temperatures)
    {
        int vocab = p[0].Length;
        double total = 0;
        for (int r = 0; r < p.Length; r++)
        {
            double t = temperatures[r], z = 0;
            for (int v = 0; v < vocab; v++) z += Math.Exp(student[r * vocab + v] / t);
            for (int v = 0; v < vocab; v++)
            {
                double q = Math.Exp(student[r * vocab + v] / t) / z;
                if (p[r][v] > 0) total += t * t * p[r][v] * Math.Log(p[r][v] / q);
            }
        }
        return total / p.Length;
    }

    [Fact]
    public void LinearScheduleMovesFromStartToEndOverTheRun()
    {
        Assert.Equal(0, TeacherTargets.Fraction(0, 5));
        Assert.Equal(0.5, TeacherTargets.Fraction(2, 5));
        Assert.Equal(1, TeacherTargets.Fraction(4, 5));
        var logits = new float[2 * 3];
        Assert.Equal([2.0, 2.0], TeacherTargets.RowTemperatures(Kd(), 0.7, logits, 3));
        var linear = Kd(TemperatureSchedule.Linear, 4);
        Assert.Equal([2.0, 2.0], TeacherTargets.RowTemperatures(linear, 0, logits, 3));
        Assert.Equal([3.0, 3.0], TeacherTargets.RowTemperatures(linear, 0.5, logits, 3));
        Assert.Equal([4.0, 4.0], TeacherTargets.RowTemperatures(linear, 1, logits, 3));
    }

    [Fact]
    public void AdaptiveTemperatureRisesAsTheTeachersEntropyFalls()
    {
        // Vocabulary 4. Row 0 uniform (h = 1), row 1 half on each of two tokens (h = ln 2 / ln 4 = 0.5), row 2 one-hot (h = 0).
        float[] teacher = [0, 0, 0, 0, 0, 0, -1e4f, -1e4f, 50, -50, -50, -50];
        var t = TeacherTargets.RowTemperatures(Kd(TemperatureSchedule.Adaptive, 5), 0.3, teacher, 4);
        Assert.Equal(2.0, t[0], 9);
        Assert.Equal(3.5, t[1], 9);
        Assert.Equal(5.0, t[2], 6);
    }

    [Fact]
    public void TheLossUsesTheScheduledTemperatures()
    {
        float[] teacher = [0, 0, 0, 0, 0, 0, -1e4f, -1e4f, 50, -50, -50, -50];
        float[] student = [0.3f, -0.2f, 0.1f, 0.5f, 1, 0, -1, 0.25f, -0.5f, 0.75f, 0, 0.1f];
        int[] targets = [1, 2, 3];
        var grad = new float[student.Length];
        double[][] p = [[0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0, 0], [1, 0, 0, 0]];

        double adaptive = DistillationObjective.Compute(Kd(TemperatureSchedule.Adaptive, 5), student, [teacher], [1.0], targets, 4, grad, 1, 0.3);
        // Row 2's teacher is one-hot to 1e-43, so its T is 5 to about 1e-7 relative.
        Assert.Equal(ReferenceKl(p, student, [2, 3.5, 5]), adaptive, 1e-5);

        double linearEnd = DistillationObjective.Compute(Kd(TemperatureSchedule.Linear, 4), student, [teacher], [1.0], targets, 4, grad, 1, 1);
        Assert.Equal(ReferenceKl(p, student, [4, 4, 4]), linearEnd, 1e-5);
        double linearMid = DistillationObjective.Compute(Kd(TemperatureSchedule.Linear, 4), student, [teacher], [1.0], targets, 4, grad, 1, 0.5);
        Assert.Equal(ReferenceKl(p, student, [3, 3, 3]), linearMid, 1e-5);
        Assert.NotEqual(linearEnd, linearMid, 3);
    }

    [Fact]
    public void SeveralTeachersMixTheirProbabilitiesAtTemperatureT()
    {
        // At T = 2: softmax(a / 2) = [1/4, 1/4, 1/2], softmax(b / 2) = [3/5, 1/5, 1/5];
        // 0.7 and 0.3 of them: [0.355, 0.235, 0.41].
        float[] a = [0, 0, (float)(2 * Ln2)];
        float[] b = [(float)(2 * Ln3), 0, 0];
        double[] expected = [0.355, 0.235, 0.41];
        var mixed = TeacherTargets.Mixture([a, b], TeacherTargets.NormalizedWeights([7, 3], 2), [2.0], 3);
        double z = mixed.Sum(x => Math.Exp(x / 2.0));
        for (int v = 0; v < 3; v++) Assert.Equal(expected[v], Math.Exp(mixed[v] / 2.0) / z, 6);

        // KD against a uniform student: T²·Σ p·ln(3p).
        float[] student = [0, 0, 0];
        var grad = new float[3];
        var options = Kd() with { TeacherWeights = [0.7, 0.3] };
        double loss = DistillationObjective.Compute(options, student, [a, b], [0.7, 0.3], [0], 3, grad, 1, 0);
        Assert.Equal(4 * expected.Sum(p => p * Math.Log(3 * p)), loss, 6);
        // d/ds = T²/T·(q − p) with q = 1/3.
        for (int v = 0; v < 3; v++) Assert.Equal(2 * (1.0 / 3 - expected[v]), grad[v], 5);
    }

    [Fact]
    public void TeacherWeightsMustFitTheTeachers()
    {
        Assert.Contains("2 values for 3 teachers", Assert.Throws<RetortException>(() => TeacherTargets.NormalizedWeights([1, 2], 3)).Message);
        Assert.Contains("non-negative", Assert.Throws<RetortException>(() => TeacherTargets.NormalizedWeights([1, -2], 2)).Message);
        Assert.Equal([0.5, 0.5], TeacherTargets.NormalizedWeights(null, 2));
    }

    [Fact]
    public void GradientMatchingIsMseOfTheCeGradientsPlusKl()
    {
        float[] teacher = [1, -1, 0.5f, 2, 0, -0.5f];
        float[] student = [0.2f, 0.3f, -0.4f, -1, 1, 0.5f];
        int[] targets = [2, 0];
        var options = new TrainingOptions { Loss = LossKind.GradientMatch, Temperature = 2 };
        var grad = new float[6];
        double loss = DistillationObjective.Compute(options, student, [teacher], [1.0], targets, 3, grad, 1, 0.4);

        // g = softmax(z) − onehot(target) per model, MSE over all 6 elements; λ = 0.8 − 0.5·0.4 = 0.6.
        double mse = 0;
        for (int r = 0; r < 2; r++)
        {
            double zs = 0, zt = 0;
            for (int v = 0; v < 3; v++) { zs += Math.Exp(student[r * 3 + v]); zt += Math.Exp(teacher[r * 3 + v]); }
            for (int v = 0; v < 3; v++)
            {
                double hot = v == targets[r] ? 1 : 0;
                double gs = Math.Exp(student[r * 3 + v]) / zs - hot, gt = Math.Exp(teacher[r * 3 + v]) / zt - hot;
                mse += (gs - gt) * (gs - gt) / 6;
            }
        }
        var p = new double[2][];
        for (int r = 0; r < 2; r++)
        {
            double z = 0;
            for (int v = 0; v < 3; v++) z += Math.Exp(teacher[r * 3 + v] / 2.0);
            p[r] = [.. Enumerable.Range(0, 3).Select(v => Math.Exp(teacher[r * 3 + v] / 2.0) / z)];
        }
        Assert.Equal(0.6 * mse + 0.4 * ReferenceKl(p, student, [2, 2]), loss, 7);
    }

    public static TheoryData<string> Objectives => new() { "gm", "gm-2teachers-adaptive", "kd-2teachers-linear", "jsd-adaptive" };

    [Theory]
    [MemberData(nameof(Objectives))]
    public void ObjectiveGradientMatchesFiniteDifferences(string name)
    {
        var rng = new Random(11);
        float[] Random(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2))];
        const int vocab = 5;
        int[] targets = [4, TokenLosses.IgnoreIndex, 0, 2];
        var student = Random(targets.Length * vocab);
        var teachers = name.Contains("2teachers", StringComparison.Ordinal) ? new[] { Random(student.Length), Random(student.Length) } : [Random(student.Length)];
        double[] weights = teachers.Length == 2 ? [0.65, 0.35] : [1.0];
        var options = new TrainingOptions
        {
            Loss = name.StartsWith("gm", StringComparison.Ordinal) ? LossKind.GradientMatch : name.StartsWith("kd", StringComparison.Ordinal) ? LossKind.Kd : LossKind.Jsd,
            Temperature = 1.5,
            TemperatureSchedule = name.EndsWith("adaptive", StringComparison.Ordinal) ? TemperatureSchedule.Adaptive : name.EndsWith("linear", StringComparison.Ordinal) ? TemperatureSchedule.Linear : TemperatureSchedule.Constant,
            TemperatureEnd = 3,
        };
        double Loss(float[] s, float[] g) => DistillationObjective.Compute(options, s, teachers, weights, targets, vocab, g, 1, 0.25);
        var grad = new float[student.Length];
        Loss(student, grad);
        var scratch = new float[student.Length];
        const float h = 1e-2f;
        for (int i = 0; i < student.Length; i++)
        {
            float keep = student[i];
            student[i] = keep + h;
            double up = Loss(student, scratch);
            student[i] = keep - h;
            double down = Loss(student, scratch);
            student[i] = keep;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - grad[i]) < 1e-3, $"{name} [{i}]: analytic {grad[i]} numeric {numeric}");
        }
        Assert.Contains(grad, g => Math.Abs(g) > 1e-3);
    }
}
