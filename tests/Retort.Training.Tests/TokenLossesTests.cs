using Retort.Training.Losses;

namespace Retort.Training.Tests;

public class TokenLossesTests
{
    private const int Vocab = 7;
    private static readonly int[] Targets = [3, TokenLosses.IgnoreIndex, 0, 6];

    private static float[] RandomLogits(int seed)
    {
        var rng = new Random(seed);
        var x = new float[Targets.Length * Vocab];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 4 - 2);
        return x;
    }

    public static TheoryData<string> Losses => new() { "ce", "fkl", "rkl", "jsd0.1", "jsd0.5", "jsd0.9", "kd" };

    private static double Evaluate(string name, float[] student, float[] teacher, float[] grad) => name switch
    {
        "ce" => TokenLosses.CrossEntropy(student, Targets, Vocab, grad),
        "fkl" => TokenLosses.ForwardKl(student, teacher, Targets, Vocab, 2.0, grad),
        "rkl" => TokenLosses.ReverseKl(student, teacher, Targets, Vocab, 1.5, grad),
        "kd" => TokenLosses.Distillation(student, teacher, Targets, Vocab, 2.0, 0.5, grad).Total,
        _ => TokenLosses.GeneralizedJsd(student, teacher, Targets, Vocab, double.Parse(name[3..], System.Globalization.CultureInfo.InvariantCulture), 1.3, grad),
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void GradientMatchesCentralFiniteDifferences(string name)
    {
        var student = RandomLogits(1);
        var teacher = RandomLogits(2);
        var grad = new float[student.Length];
        Evaluate(name, student, teacher, grad);
        var scratch = new float[student.Length];
        // Losses sum in double, so a central difference with h = 1e-2 on float inputs is accurate
        // to about h² ≈ 1e-4 of the curvature; 2e-3 absolute leaves room for that and nothing more.
        const float h = 1e-2f;
        for (var i = 0; i < student.Length; i++)
        {
            var keep = student[i];
            student[i] = keep + h;
            var up = Evaluate(name, student, teacher, scratch);
            student[i] = keep - h;
            var down = Evaluate(name, student, teacher, scratch);
            student[i] = keep;
            var numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - grad[i]) < 2e-3, $"{name} [{i}]: analytic {grad[i]} numeric {numeric}");
        }
    }

    [Fact]
    public void MaskedRowsGetNoGradientAndDoNotCount()
    {
        var student = RandomLogits(3);
        var teacher = RandomLogits(4);
        var grad = new float[student.Length];
        TokenLosses.ReverseKl(student, teacher, Targets, Vocab, 1, grad);
        for (var v = 0; v < Vocab; v++) Assert.Equal(0f, grad[Vocab + v]);
        // Changing a masked row must leave the loss alone.
        var before = TokenLosses.CrossEntropy(student, Targets, Vocab, grad);
        student[Vocab + 2] += 5;
        Assert.Equal(before, TokenLosses.CrossEntropy(student, Targets, Vocab, grad));
    }

    [Fact]
    public void CrossEntropyOfUniformLogitsIsLogVocab()
    {
        var grad = new float[Targets.Length * Vocab];
        var loss = TokenLosses.CrossEntropy(new float[Targets.Length * Vocab], Targets, Vocab, grad);
        Assert.Equal(Math.Log(Vocab), loss, 12);
        // Three active rows: the target logit's gradient is (1/V - 1)/3.
        Assert.Equal((1.0 / Vocab - 1) / 3, grad[3], 6);
    }

    [Fact]
    public void DivergencesOfIdenticalDistributionsAreZero()
    {
        var x = RandomLogits(5);
        var grad = new float[x.Length];
        Assert.Equal(0, TokenLosses.ForwardKl(x, x, Targets, Vocab, 2, grad), 12);
        Assert.Equal(0, TokenLosses.ReverseKl(x, x, Targets, Vocab, 1, grad), 12);
        Assert.Equal(0, TokenLosses.GeneralizedJsd(x, x, Targets, Vocab, 0.5, 1, grad), 12);
    }

    [Fact]
    public void ShiftLabelsDropsTheFirstLabelOfEachSequence()
    {
        int[] labels = [-100, 5, 6, 1, 2, 3];
        Assert.Equal([5, 6, 2, 3], TokenLosses.ShiftLabels(labels, 2, 3));
    }
}
