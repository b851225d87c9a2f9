namespace Retort.Distillation.Charts;

/// <summary>An RGB pixel buffer with the two drawing operations charts need: filled rectangles and bitmap text.</summary>
internal sealed class Canvas
{
    public Canvas(int width, int height, (byte R, byte G, byte B) background)
    {
        Width = width;
        Height = height;
        Pixels = new byte[width * height * 3];
        FillRect(0, 0, width, height, background);
    }

    public int Width { get; }

    public int Height { get; }

    public byte[] Pixels { get; }

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            int i = (y * Width + x) * 3;
            return (Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
    }

    public void FillRect(int x, int y, int w, int h, (byte R, byte G, byte B) color)
    {
        int x0 = Math.Max(0, x), y0 = Math.Max(0, y), x1 = Math.Min(Width, x + w), y1 = Math.Min(Height, y + h);
        for (int py = y0; py < y1; py++)
            for (int px = x0; px < x1; px++)
            {
                int i = (py * Width + px) * 3;
                (Pixels[i], Pixels[i + 1], Pixels[i + 2]) = color;
            }
    }

    public void DrawText(string text, int x, int y, int scale, (byte R, byte G, byte B) color)
    {
        foreach (char c in text)
        {
            byte[] rows = PixelFont.Glyph(c);
            for (int row = 0; row < PixelFont.Height; row++)
                for (int col = 0; col < PixelFont.Width; col++)
                    if ((rows[row] >> (PixelFont.Width - 1 - col) & 1) == 1)
                        FillRect(x + col * scale, y + row * scale, scale, scale, color);
            x += PixelFont.Advance * scale;
        }
    }

    /// <summary>Draws text centred on <paramref name="centreX"/>, cut with "…"-like ".." when wider than <paramref name="maxWidth"/>.</summary>
    public void DrawCentred(string text, int centreX, int y, int scale, int maxWidth, (byte R, byte G, byte B) color)
    {
        int maxChars = Math.Max(1, (maxWidth / scale + 1) / PixelFont.Advance);
        if (text.Length > maxChars) text = text[..Math.Max(1, maxChars - 2)] + "..";
        DrawText(text, centreX - PixelFont.TextWidth(text, scale) / 2, y, scale, color);
    }
}
