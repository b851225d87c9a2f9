using System.Globalization;
using Retort.Engine;
using Retort.Training.Losses;
using Retort.Training.Model;

namespace Retort.Training.Loop;

/// <summary>
/// Intermediate-feature distillation: for each mapped pair (student layer s, teacher layer t) a
/// learned linear projection P [teacher hidden, student hidden] (no bias) takes the student's output
/// of layer s to the teacher's width, and weight·Σ_pairs loss(P·h_s, h_t) joins the objective over
/// the positions that carry a loss. The projections train with the student (AdamW, checkpoints) but
/// are not part of the exported model.
/// </summary>
internal sealed class FeatureDistillation
{
    private readonly FeatureLoss _kind;
    private readonly double _weight;

    public FeatureDistillation(StudentModel student, int teacherHidden, IReadOnlyList<(int Student, int Teacher)> pairs, FeatureLoss kind, double weight, int seed)
    {
        Pairs = pairs;
        _kind = kind;
        _weight = weight;
        int studentHidden = student.Config.HiddenSize;
        var random = new Random(seed);
        double bound = 1 / Math.Sqrt(studentHidden); // nn.Linear's default range
        Projections = pairs.Select((pair, i) =>
        {
            var value = new float[teacherHidden * studentHidden];
            for (int j = 0; j < value.Length; j++) value[j] = (float)((random.NextDouble() * 2 - 1) * bound);
            return new Parameter($"feature_projection.{i}.weight", [teacherHidden, studentHidden], value, trainable: true);
        }).ToList();
        student.CapturedLayers = pairs.Select(p => p.Student).ToList();
    }

    public IReadOnlyList<(int Student, int Teacher)> Pairs { get; }

    public IReadOnlyList<int> TeacherLayers => Pairs.Select(p => p.Teacher).ToList();

    public IReadOnlyList<Parameter> Projections { get; }

    /// <summary>Parses "0:1,1:3" (student layer : teacher layer); a student layer may appear once.</summary>
    public static List<(int Student, int Teacher)> ParseLayers(string text)
    {
        var pairs = new List<(int, int)>();
        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = item.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int s)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int t))
                throw new RetortException($"--feature-layers: '{item}' is not STUDENT:TEACHER layer numbers (e.g. 0:1,1:3)");
            if (pairs.Any(p => p.Item1 == s)) throw new RetortException($"--feature-layers: student layer {s} is mapped twice");
            pairs.Add((s, t));
        }
        if (pairs.Count == 0) throw new RetortException("--feature-layers: no layer pairs given (e.g. 0:1,1:3)");
        return pairs;
    }

    /// <summary>
    /// The weighted feature loss of the last student forward pass against the teacher's hidden states
    /// (one array per pair); adds d loss / d P (times <paramref name="scale"/>) into the projections'
    /// gradients when <paramref name="hiddenGradients"/> is wanted, and returns there d loss / d h_s per pair.
    /// </summary>
    public double Compute(StudentModel student, IReadOnlyList<float[]> teacherHidden, ReadOnlySpan<int> targets, double scale, float[]?[]? hiddenGradients)
    {
        int n = targets.Length, hs = student.Config.HiddenSize;
        int count = 0;
        foreach (int t in targets) if (t != TokenLosses.IgnoreIndex) count++;
        if (count == 0) return 0;
        var mm = student.MatMul;
        double total = 0;
        for (int i = 0; i < Pairs.Count; i++)
        {
            var p = Projections[i];
            int ht = p.Shape[0];
            var h = student.CapturedHidden(i);
            var target = teacherHidden[i];
            var y = new float[n * ht];
            mm.Multiply(h, false, p.Value, true, y, n, ht, hs, accumulate: false);
            var dy = new float[n * ht];
            double loss = 0;
            for (int r = 0; r < n; r++)
            {
                if (targets[r] == TokenLosses.IgnoreIndex) continue;
                var yr = y.AsSpan(r * ht, ht);
                var tr = target.AsSpan(r * ht, ht);
                var dr = dy.AsSpan(r * ht, ht);
                if (_kind == FeatureLoss.Mse)
                {
                    double norm = (double)count * ht;
                    for (int j = 0; j < ht; j++)
                    {
                        double d = yr[j] - tr[j];
                        loss += d * d / norm;
                        dr[j] = (float)(_weight * scale * 2 * d / norm);
                    }
                }
                else
                {
                    double yy = 0, tt = 0, yt = 0;
                    for (int j = 0; j < ht; j++) { yy += (double)yr[j] * yr[j]; tt += (double)tr[j] * tr[j]; yt += (double)yr[j] * tr[j]; }
                    // A zero vector has no direction; the epsilon keeps its cosine 0 and its gradient finite.
                    double ny = Math.Sqrt(yy) + 1e-12, nt = Math.Sqrt(tt) + 1e-12, cos = yt / (ny * nt);
                    loss += (1 - cos) / count;
                    // d cos / d y = t / (|y||t|) − cos·y / |y|².
                    for (int j = 0; j < ht; j++) dr[j] = (float)(-_weight * scale / count * (tr[j] / (ny * nt) - cos * yr[j] / (ny * ny)));
                }
            }
            total += loss;
            if (hiddenGradients == null) continue;
            if (p.Trainable) mm.Multiply(dy, true, h, false, p.Gradient, ht, hs, n, accumulate: true);
            var dh = new float[n * hs];
            mm.Multiply(dy, false, p.Value, false, dh, n, hs, ht, accumulate: false);
            hiddenGradients[i] = dh;
        }
        return _weight * total;
    }
}
