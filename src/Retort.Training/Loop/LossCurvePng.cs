using Retort.Distillation.Charts;
using Retort.Engine.IO;

namespace Retort.Training.Loop;

/// <summary>
/// Draws the loss curve (training loss per step in blue, evaluation loss in red, light grid) as a
/// PNG through the charts' encoder.
/// </summary>
internal static class LossCurvePng
{
    private const int Width = 640, Height = 360, Margin = 24;

    public static byte[] Render(IReadOnlyList<double> losses, IReadOnlyList<EvalPoint> eval)
    {
        var pixels = new byte[Width * Height * 3];
        Array.Fill(pixels, (byte)255);
        var values = losses.Where(double.IsFinite).Concat(eval.Select(e => e.Loss).Where(double.IsFinite)).ToList();
        double min = values.Count > 0 ? values.Min() : 0, max = values.Count > 0 ? values.Max() : 1;
        if (max - min < 1e-9) { min -= 0.5; max += 0.5; }
        int steps = Math.Max(2, Math.Max(losses.Count, eval.Count > 0 ? eval.Max(e => e.Step) : 0));

        int X(double step) => Margin + (int)Math.Round((step - 1) / (steps - 1) * (Width - 2 * Margin));
        int Y(double loss) => Height - Margin - (int)Math.Round((loss - min) / (max - min) * (Height - 2 * Margin));

        for (int g = 0; g <= 4; g++)
        {
            int y = Margin + g * (Height - 2 * Margin) / 4, x = Margin + g * (Width - 2 * Margin) / 4;
            Line(pixels, Margin, y, Width - Margin, y, (220, 220, 220));
            Line(pixels, x, Margin, x, Height - Margin, (220, 220, 220));
        }
        Line(pixels, Margin, Height - Margin, Width - Margin, Height - Margin, (0, 0, 0));
        Line(pixels, Margin, Margin, Margin, Height - Margin, (0, 0, 0));
        for (int i = 1; i < losses.Count; i++)
            if (double.IsFinite(losses[i - 1]) && double.IsFinite(losses[i]))
                Line(pixels, X(i), Y(losses[i - 1]), X(i + 1), Y(losses[i]), (31, 119, 180));
        for (int i = 0; i < eval.Count; i++)
        {
            if (i > 0) Line(pixels, X(eval[i - 1].Step), Y(eval[i - 1].Loss), X(eval[i].Step), Y(eval[i].Loss), (214, 39, 40));
            for (int d = -2; d <= 2; d++) Line(pixels, X(eval[i].Step) - 2, Y(eval[i].Loss) + d, X(eval[i].Step) + 2, Y(eval[i].Loss) + d, (214, 39, 40));
        }
        using var png = new MemoryStream();
        PngEncoder.Write(png, Width, Height, pixels);
        return png.ToArray();
    }

    public static void Write(string path, IReadOnlyList<double> losses, IReadOnlyList<EvalPoint> eval)
    {
        byte[] png = Render(losses, eval);
        AtomicFile.Write(path, stream => stream.Write(png));
    }

    /// <summary>Bresenham's line, clipped to the image.</summary>
    private static void Line(byte[] pixels, int x0, int y0, int x1, int y1, (byte R, byte G, byte B) color)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            if (x0 >= 0 && x0 < Width && y0 >= 0 && y0 < Height)
            {
                int i = (y0 * Width + x0) * 3;
                (pixels[i], pixels[i + 1], pixels[i + 2]) = color;
            }
            if (x0 == x1 && y0 == y1) return;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }
}
