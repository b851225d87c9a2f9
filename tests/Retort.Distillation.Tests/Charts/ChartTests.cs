using System.Buffers.Binary;
using System.IO.Compression;
using Retort.Distillation.Charts;

namespace Retort.Distillation.Tests.Charts;

public sealed class ChartTests
{
    [Fact]
    public void TheBarChartIsAValidPngWithBarsAsHighAsTheValues()
    {
        var bars = new List<(string, double)> { ("teacher", 1.0), ("student-sft", 0.0), ("scratch", 0.5) };
        using var png = new MemoryStream();
        BarChart.Render(bars, "ACCURACY", png);
        byte[] bytes = png.ToArray();

        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        var chunks = new List<(string Type, byte[] Data)>();
        for (int at = 8; at < bytes.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            byte[] data = bytes[(at + 8)..(at + 8 + length)];
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at + 8 + length));
            Assert.Equal(Crc32(bytes.AsSpan(at + 4, 4 + length)), crc);
            chunks.Add((type, data));
            at += 12 + length;
        }
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        int width = BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data), height = BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data.AsSpan(4));
        Assert.Equal(BarChart.Width(3), width);
        Assert.Equal(BarChart.Height, height);
        Assert.Equal([8, 2, 0, 0, 0], chunks[0].Data[8..]);

        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress)) z.CopyTo(inflated);
        byte[] raw = inflated.ToArray();
        Assert.Equal(height * (1 + width * 3), raw.Length);
        (byte, byte, byte) Pixel(int x, int y)
        {
            int row = y * (1 + width * 3);
            Assert.Equal(0, raw[row]);
            int i = row + 1 + x * 3;
            return (raw[i], raw[i + 1], raw[i + 2]);
        }

        // Probe a quarter of the way into each bar's slot, at the top and bottom of the plot.
        int plotTop = BarChart.Top + 2, plotBottom = BarChart.Top + BarChart.PlotHeight - 2, mid = BarChart.Top + BarChart.PlotHeight / 2 + 20;
        int X(int bar) => BarChart.Left + bar * BarChart.Slot + BarChart.Slot / 2 - 10;
        Assert.Equal(BarChart.Bar, Pixel(X(0), plotTop));
        Assert.Equal(BarChart.Bar, Pixel(X(0), plotBottom));
        Assert.Equal(BarChart.Background, Pixel(X(1), plotBottom));
        Assert.Equal(BarChart.Background, Pixel(X(2), plotTop + 40));
        Assert.Equal(BarChart.Bar, Pixel(X(2), mid));
    }

    /// <summary>CRC-32 (ISO 3309, as PNG uses), bit by bit: slow, short and independent of the encoder's table.</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }
}
