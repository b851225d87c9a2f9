using Retort.Engine.Formats.Gguf;
using Retort.Engine.Formats.SafeTensors;
using Retort.Engine.Tensors;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Formats;

/// <summary>
/// Truncated and corrupted copies of real files must either open or fail with a RetortException;
/// any other exception (index, overflow, cast, access violation) is a bug.
/// </summary>
public class RobustnessTests
{
    private static readonly ulong[] Interesting =
        [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 31, 32, 33, 255, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 1UL << 32, 1UL << 62, long.MaxValue, 1UL << 63, ulong.MaxValue];

    /// <summary>Opens the bytes as a file; returns true when it opened. Anything but RetortException fails the test.</summary>
    private static bool TryOpen(string path, byte[] bytes, int length, Func<string, ITensorStore> open, string what)
    {
        using (var fs = new FileStream(path, FileMode.Create, FileAccess.Write))
            fs.Write(bytes, 0, length);
        try
        {
            using ITensorStore store = open(path);
            foreach (TensorData t in store.Tensors.Values)
            {
                // Touch both ends of every tensor: a range outside the mapping would crash here.
                if (t.ByteLength > 0)
                {
                    _ = t.AllBytes()[0];
                    _ = t.AllBytes()[^1];
                }
            }
            if (store is GgufFile g) ExerciseGetters(g);
            return true;
        }
        catch (RetortException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            Assert.DoesNotContain('\n', e.Message);
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of RetortException: {e.Message}");
            return false;
        }
    }

    private static void ExerciseGetters(GgufFile g)
    {
        foreach (string key in g.MetadataKeys)
        {
            Action[] getters =
            [
                () => g.GetString(key), () => g.GetInteger(key), () => g.GetFloat(key), () => g.GetBool(key),
                () => g.GetStringArray(key), () => g.GetIntegerArray(key), () => g.GetFloatArray(key),
            ];
            foreach (Action get in getters)
            {
                try { get(); }
                catch (RetortException) { }
            }
        }
    }

    private static (long HeaderEnd, long DataOffset) Layout(string path)
    {
        using var g = GgufFile.Open(path);
        // The tensor-info section ends just before the alignment padding that precedes the data.
        return (g.DataOffset, g.DataOffset);
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("q8_0")]
    public void TruncatedGgufCopies(string variant)
    {
        string source = Fixtures.Path("qwen2-micro", "gguf", $"qwen2-micro-{variant}.gguf");
        byte[] bytes = File.ReadAllBytes(source);
        var (_, dataOffset) = Layout(source);
        using var dir = new TempDir();
        string path = dir.File("t.gguf");

        // Every length through the header: none of them can hold the tensor data, so all must fail.
        for (int len = 0; len <= dataOffset; len++)
            Assert.False(TryOpen(path, bytes, len, p => GgufFile.Open(p), $"{variant} truncated to {len}"), $"{variant} truncated to {len} opened");

        int opened = 0;
        for (long len = dataOffset + 1; len < bytes.Length; len += 1021)
            if (TryOpen(path, bytes, (int)len, p => GgufFile.Open(p), $"{variant} truncated to {len}")) opened++;
        for (int back = 1; back <= 40; back++)
            if (TryOpen(path, bytes, bytes.Length - back, p => GgufFile.Open(p), $"{variant} truncated by {back}")) opened++;
        Assert.True(TryOpen(path, bytes, bytes.Length, p => GgufFile.Open(p), "whole file"));
        // Only a cut inside the final tensor's trailing padding may still open.
        Assert.True(opened <= 40, $"{opened} truncated copies opened");
    }

    [Theory]
    [InlineData("f32", 1)]
    [InlineData("q8_0", 2)]
    public void CorruptedGgufHeaders(string variant, int seed)
    {
        string source = Fixtures.Path("qwen2-micro", "gguf", $"qwen2-micro-{variant}.gguf");
        byte[] original = File.ReadAllBytes(source);
        var (_, dataOffset) = Layout(source);
        using var dir = new TempDir();
        string path = dir.File("c.gguf");
        var rng = new Random(seed);
        int failures = 0;
        const int copies = 600;
        for (int n = 0; n < copies; n++)
        {
            byte[] bytes = (byte[])original.Clone();
            int edits = rng.Next(1, 6);
            for (int e = 0; e < edits; e++)
            {
                // Bias towards the first 1 KiB (counts, small keys) and the tensor infos near the end of the header.
                int pos = rng.Next(4) switch
                {
                    0 => rng.Next(0, Math.Min(1024, (int)dataOffset)),
                    1 => rng.Next(Math.Max(0, (int)dataOffset - 2048), (int)dataOffset),
                    _ => rng.Next(0, (int)dataOffset),
                };
                switch (rng.Next(3))
                {
                    case 0:
                        bytes[pos] ^= (byte)(1 << rng.Next(8));
                        break;
                    case 1:
                        bytes[pos] = (byte)rng.Next(256);
                        break;
                    default:
                        ulong v = Interesting[rng.Next(Interesting.Length)];
                        int width = rng.Next(2) == 0 ? 4 : 8;
                        for (int k = 0; k < width && pos + k < bytes.Length; k++) bytes[pos + k] = (byte)(v >> (8 * k));
                        break;
                }
            }
            if (!TryOpen(path, bytes, bytes.Length, p => GgufFile.Open(p), $"{variant} corruption #{n}")) failures++;
        }
        // Sanity check that the corruption reaches the parser at all.
        Assert.True(failures > copies / 10, $"only {failures} of {copies} corrupted copies were rejected");
    }

    [Fact]
    public void TruncatedSafeTensorsCopies()
    {
        string source = Fixtures.Path("qwen2-micro", "hf", "model.safetensors");
        byte[] bytes = File.ReadAllBytes(source);
        long dataOffset;
        using (var st = SafeTensorsFile.Open(source)) dataOffset = st.DataOffset;
        using var dir = new TempDir();
        string path = dir.File("t.safetensors");
        for (int len = 0; len <= dataOffset; len++)
            Assert.False(TryOpen(path, bytes, len, p => SafeTensorsFile.Open(p), $"truncated to {len}"), $"truncated to {len} opened");
        for (long len = dataOffset + 1; len < bytes.Length; len += 997)
            Assert.False(TryOpen(path, bytes, (int)len, p => SafeTensorsFile.Open(p), $"truncated to {len}"), $"truncated to {len} opened");
        Assert.True(TryOpen(path, bytes, bytes.Length, p => SafeTensorsFile.Open(p), "whole file"));
    }

    [Fact]
    public void CorruptedSafeTensorsHeaders()
    {
        string source = Fixtures.Path("qwen2-micro", "hf", "model.safetensors");
        byte[] original = File.ReadAllBytes(source);
        long dataOffset;
        using (var st = SafeTensorsFile.Open(source)) dataOffset = st.DataOffset;
        using var dir = new TempDir();
        string path = dir.File("c.safetensors");
        var rng = new Random(7);
        byte[] jsonChars = "{}[],:\"0123456789-.eE \\u"u8.ToArray();
        int failures = 0;
        const int copies = 600;
        for (int n = 0; n < copies; n++)
        {
            byte[] bytes = (byte[])original.Clone();
            int edits = rng.Next(1, 5);
            for (int e = 0; e < edits; e++)
            {
                int pos = rng.Next(0, (int)dataOffset);
                bytes[pos] = rng.Next(3) switch
                {
                    0 => (byte)(bytes[pos] ^ (1 << rng.Next(8))),
                    1 => jsonChars[rng.Next(jsonChars.Length)],
                    _ => (byte)rng.Next(256),
                };
            }
            if (!TryOpen(path, bytes, bytes.Length, p => SafeTensorsFile.Open(p), $"corruption #{n}")) failures++;
        }
        Assert.True(failures > copies / 10, $"only {failures} of {copies} corrupted copies were rejected");
    }
}
