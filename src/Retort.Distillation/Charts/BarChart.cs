using System.Globalization;

namespace Retort.Distillation.Charts;

/// <summary>A vertical bar chart of values in [0, 1] (accuracies), with gridlines at every 25%, value labels and names.</summary>
internal static class BarChart
{
    public const int Height = 360, Top = 50, PlotHeight = 240, Left = 60, Slot = 120, BarWidth = 72;

    public static readonly (byte, byte, byte) Background = (255, 255, 255);
    public static readonly (byte, byte, byte) Bar = (66, 110, 190);
    private static readonly (byte, byte, byte) Ink = (30, 30, 30);
    private static readonly (byte, byte, byte) Grid = (225, 225, 225);

    public static int Width(int bars) => Math.Max(360, Left + bars * Slot + 20);

    /// <summary>Where bar <paramref name="index"/> is drawn for <paramref name="value"/>: left, top, width, height in pixels.</summary>
    public static (int X, int Y, int W, int H) BarRect(int index, double value)
    {
        int h = (int)Math.Round(Math.Clamp(value, 0, 1) * PlotHeight);
        int x = Left + index * Slot + (Slot - BarWidth) / 2;
        return (x, Top + PlotHeight - h, BarWidth, h);
    }

    public static void Render(IReadOnlyList<(string Name, double Value)> bars, string title, Stream output)
    {
        var canvas = Draw(bars, title);
        PngEncoder.Write(output, canvas.Width, canvas.Height, canvas.Pixels);
    }

    internal static Canvas Draw(IReadOnlyList<(string Name, double Value)> bars, string title)
    {
        var canvas = new Canvas(Width(bars.Count), Height, Background);
        canvas.DrawText(title, Left, 16, 2, Ink);
        for (int pct = 0; pct <= 100; pct += 25)
        {
            int y = Top + PlotHeight - pct * PlotHeight / 100;
            canvas.FillRect(Left, y, canvas.Width - Left - 10, 1, pct == 0 ? Ink : Grid);
            string label = pct.ToString(CultureInfo.InvariantCulture) + "%";
            canvas.DrawText(label, Left - 8 - PixelFont.TextWidth(label, 1), y - 3, 1, Ink);
        }
        for (int i = 0; i < bars.Count; i++)
        {
            var (x, y, w, h) = BarRect(i, bars[i].Value);
            canvas.FillRect(x, y, w, h, Bar);
            int centre = x + w / 2;
            string value = (bars[i].Value * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
            canvas.DrawCentred(value, centre, y - 20, 2, Slot - 4, Ink);
            canvas.DrawCentred(bars[i].Name, centre, Top + PlotHeight + 10, 1, Slot - 6, Ink);
        }
        return canvas;
    }
}
