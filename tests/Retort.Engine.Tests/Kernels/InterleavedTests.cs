using Retort.Engine.Kernels;
using Retort.Engine.Tensors;

namespace Retort.Engine.Tests.Kernels;

/// <summary>
/// Interleaved Q4_0 (16-row), Q8_0 and Q4_K (8-row) weights: packing is lossless, the scalar reference over the
/// packed layout equals the per-row reference dot products, and the vector tiles and the packed
/// matmul equal the scalar reference.
/// </summary>
public sealed unsafe class InterleavedTests
{
    public static TheoryData<GgmlType> Types => new() { GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K };

    [Theory]
    [MemberData(nameof(Types))]
    public void PackingKeepsEveryByteAndWeight(GgmlType type)
    {
        const int rows = 48;
        int cols = type == GgmlType.Q4_K ? 512 : 96;
        var (weights, rowBytes, rowData) = RandomMatrix(type, rows, cols, new Random(5));
        fixed (byte* w = weights)
        {
            using var packed = InterleavedWeights.Pack(type, w, rowBytes, rows, cols);
            var format = InterleavedWeights.FormatOf(type)!.Value;
            int perBlock = InterleavedWeights.ElementsPerBlock(format);
            int gr = packed.GroupRows;
            Assert.Equal(type == GgmlType.Q4_0 ? 16 : 8, gr);
            int fileBlockBytes = (int)GgmlTypeInfo.RowBytes(type, perBlock);
            for (int r = 0; r < rows; r++)
            {
                if (type != GgmlType.Q4_K)
                {
                    var back = new byte[rowBytes];
                    packed.UnpackRow(r, back);
                    Assert.Equal(rowData[r], back);
                }
                for (int b = 0; b < cols / perBlock; b++)
                {
                    byte* group = packed.Group(r / gr);
                    for (int k = 0; k < perBlock; k++)
                        Assert.Equal(QuantOf(type, rowData[r], perBlock * b + k), InterleavedWeights.Weight(format, group, packed.Blocks, b, r % gr, k));
                    Assert.Equal(BitConverter.ToUInt16(rowData[r], fileBlockBytes * b), InterleavedWeights.ScaleBits(format, group, packed.Blocks, b, r % gr));
                    if (type != GgmlType.Q4_K) continue;
                    byte* record = group + b * InterleavedWeights.RecordBytes(format);
                    Assert.Equal(BitConverter.ToUInt16(rowData[r], 144 * b + 2), ((ushort*)record)[8 + r % 8]);
                    for (int sb = 0; sb < 8; sb++)
                    {
                        var (scale, min) = Q4_KScaleMin(rowData[r].AsSpan(144 * b + 4, 12), sb);
                        Assert.Equal(scale, InterleavedWeights.Q4_KScale(record, r % 8, sb));
                        Assert.Equal(min, InterleavedWeights.Q4_KMin(record, r % 8, sb));
                    }
                }
            }
        }
    }

    [Fact]
    public void ScaleConversionEqualsHalfToSingleForEveryFiniteHalf()
    {
        if (!DotInterleaved.IsSupported(InterleavedFormat.Q4_0)) return;
        var record = new ushort[16];
        for (int h = 0; h < 65536; h += 16)
        {
            for (int i = 0; i < 16; i++) record[i] = (ushort)(h + i);
            fixed (ushort* p = record)
            {
                var lower = DotInterleaved.Scales((byte*)p);
                var upper = DotInterleaved.Scales((byte*)(p + 8));
                var wide = DotInterleaved.Q4_0Wide ? DotInterleaved.ScalesWide(p) : default;
                for (int i = 0; i < 16; i++)
                {
                    float expected = TestBlocks.FromHalf(record[i]);
                    if (!float.IsFinite(expected)) continue;
                    float narrow = i < 8 ? lower[i] : upper[i - 8];
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(narrow));
                    if (DotInterleaved.Q4_0Wide) Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(wide[i]));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void ScalarTileEqualsPerRowReferenceDots(GgmlType type)
    {
        const int cols = 512;
        int rows = InterleavedWeights.RowsPerGroup(InterleavedWeights.FormatOf(type)!.Value);
        var rng = new Random(11);
        var (weights, rowBytes, rowData) = RandomMatrix(type, rows, cols, rng);
        var act = Quantized(rng, cols, 3, type == GgmlType.Q4_K);
        var y = new float[3 * rows];
        fixed (byte* w = weights)
        fixed (float* py = y)
        {
            using var packed = InterleavedWeights.Pack(type, w, rowBytes, rows, cols);
            var xq = stackalloc sbyte*[3];
            var xd = stackalloc float*[3];
            var yp = stackalloc float*[3];
            for (int j = 0; j < 3; j++)
            {
                xq[j] = act.Q(j);
                xd[j] = act.D(j);
                yp[j] = py + rows * j;
            }
            DotInterleaved.TileScalar(packed.Format, packed.Group(0), packed.Blocks, xq, xd, 3, yp);
            for (int j = 0; j < 3; j++)
            {
                for (int r = 0; r < rows; r++)
                {
                    fixed (byte* row = rowData[r])
                    {
                        float expected = type switch
                        {
                            GgmlType.Q4_0 => DotQ4_0.DotScalar(row, act.Q(j), act.D(j), cols / 32),
                            GgmlType.Q8_0 => DotQ8_0.DotScalar(row, act.Q(j), act.D(j), cols / 32),
                            _ => DotQ4_K.DotScalar(row, act.Q(j), act.D(j), cols / 256),
                        };
                        Assert.True(Math.Abs(y[rows * j + r] - expected) <= 1e-5 * (Math.Abs(expected) + 1e-3), $"token {j} row {r}: {y[rows * j + r]} vs {expected}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void VectorTilesEqualTheScalarTile(GgmlType type)
    {
        var format = InterleavedWeights.FormatOf(type)!.Value;
        if (!DotInterleaved.IsSupported(format)) return;
        int rows = InterleavedWeights.RowsPerGroup(format);
        int cols = type == GgmlType.Q4_K ? 768 : 544; // 17 blocks: an odd count
        var rng = new Random(17);
        var (weights, rowBytes, _) = RandomMatrix(type, rows, cols, rng);
        var act = Quantized(rng, cols, 4, type == GgmlType.Q4_K);
        fixed (byte* w = weights)
        {
            using var packed = InterleavedWeights.Pack(type, w, rowBytes, rows, cols);
            var expected = ScalarTile(packed, act);
            var magnitude = Magnitudes(packed, act);
            foreach (var (path, tile4, tile1) in VectorTiles(packed, act))
            {
                for (int i = 0; i < 4 * rows; i++)
                {
                    // Float sums in another order differ by rounding relative to Σ|terms|, not to the result.
                    double tolerance = 1e-6 * magnitude[i] + 1e-9;
                    Assert.True(Math.Abs(tile4[i] - expected[i]) <= tolerance, $"{path} 4-token tile, output {i}: {tile4[i]} vs {expected[i]}");
                    // Same operations in the same order: a row decoded alone equals the row in a 4-token tile.
                    Assert.Equal(tile4[i], tile1[i]);
                }
            }
        }
    }

    [Fact]
    public void Q4_0PathsAgreeBitForBit()
    {
        // The 512-bit and both 256-bit Q4_0 bodies compute the same exact block sums and the same
        // float steps, so a model gives the same tokens whichever CPU runs it.
        if (!DotInterleaved.IsSupported(InterleavedFormat.Q4_0)) return;
        var rng = new Random(29);
        var (weights, rowBytes, _) = RandomMatrix(GgmlType.Q4_0, 16, 320, rng);
        var act = Quantized(rng, 320, 4);
        fixed (byte* w = weights)
        {
            using var packed = InterleavedWeights.Pack(GgmlType.Q4_0, w, rowBytes, 16, 320);
            var results = VectorTiles(packed, act);
            Assert.True(results.Count >= 2, "expected at least the AVX2 and one other Q4_0 body on this CPU");
            foreach (var (path, tile4, tile1) in results.Skip(1))
            {
                Assert.Equal(results[0].Tile4, tile4);
                Assert.Equal(results[0].Tile1, tile1);
            }
        }
    }

    [Fact]
    public void Q4_0EightTokenTileEqualsTwoFourTokenTiles()
    {
        if (!DotInterleaved.Q4_0Wide) return;
        const int cols = 352; // 11 blocks
        var rng = new Random(41);
        var (weights, rowBytes, _) = RandomMatrix(GgmlType.Q4_0, 16, cols, rng);
        var act = Quantized(rng, cols, 8);
        float[] eight = new float[8 * 16], fours = new float[8 * 16];
        fixed (byte* w = weights)
        fixed (float* p8 = eight, p4 = fours)
        {
            using var packed = InterleavedWeights.Pack(GgmlType.Q4_0, w, rowBytes, 16, cols);
            DotInterleaved.Tile8Q4_0Wide(packed.Group(0), packed.Blocks, act.Q(0), act.D(0), act.BlockSums(0), cols, p8, 16);
            for (int t = 0; t < 8; t += 4)
                DotInterleaved.Tile4Q4_0Wide(packed.Group(0), packed.Blocks, act.Q(t), act.Q(t + 1), act.Q(t + 2), act.Q(t + 3),
                    act.D(t), act.D(t + 1), act.D(t + 2), act.D(t + 3), act.BlockSums(t), act.BlockSums(t + 1), act.BlockSums(t + 2), act.BlockSums(t + 3),
                    p4 + 16 * t, p4 + 16 * (t + 1), p4 + 16 * (t + 2), p4 + 16 * (t + 3));
        }
        Assert.Equal(fours, eight);
        Assert.Contains(eight, v => v != 0);
    }

    [Theory]
    [InlineData(false, 1f)]
    [InlineData(true, 1f)] // every nibble 15, every scale 63, activations +127: the largest 16-bit sums
    [InlineData(true, -1f)]
    public void Q4_KWideTilesEqualTheNarrowTilesBitForBit(bool extreme, float sign)
    {
        if (!DotInterleaved.Q4_KWide || KernelPaths.Best != KernelPath.AvxVnni) return;
        const int rows = 16, cols = 768;
        var rng = new Random(43);
        var (weights, rowBytes, _) = RandomMatrix(GgmlType.Q4_K, rows, cols, rng);
        if (extreme)
        {
            for (int i = 0; i < weights.Length; i += 144)
            {
                BitConverter.TryWriteBytes(weights.AsSpan(i), (ushort)0x3C00); // d = 1
                BitConverter.TryWriteBytes(weights.AsSpan(i + 2), (ushort)0x3C00); // dmin = 1
                weights.AsSpan(i + 4, 140).Fill(0xFF); // 6-bit scales and mins 63, nibbles 15
            }
        }
        var act = new QuantizedActivations();
        var x = extreme ? Enumerable.Repeat(sign, 4 * cols).ToArray() : Enumerable.Range(0, 4).SelectMany(_ => TestBlocks.RandomActivations(cols, rng)).ToArray();
        fixed (float* px = x) act.QuantizeQ8K(px, cols, 4);
        float[] narrow4 = new float[4 * rows], narrow1 = new float[4 * rows], wide4 = new float[4 * rows];
        fixed (byte* w = weights)
        fixed (float* n4 = narrow4, n1 = narrow1, w4 = wide4)
        {
            using var packed = InterleavedWeights.Pack(GgmlType.Q4_K, w, rowBytes, rows, cols);
            byte* a = packed.Group(0), b = packed.Group(1);
            int n = packed.Blocks;
            for (int g = 0; g < 2; g++)
            {
                DotInterleaved.Tile4Q4_K<VnniMultiplyAdd>(packed.Group(g), n, act.Q(0), act.Q(1), act.Q(2), act.Q(3),
                    act.D(0), act.D(1), act.D(2), act.D(3), act.Sums32(0), act.Sums32(1), act.Sums32(2), act.Sums32(3),
                    n4 + 8 * g, n4 + rows + 8 * g, n4 + 2 * rows + 8 * g, n4 + 3 * rows + 8 * g);
                for (int j = 0; j < 4; j++) DotInterleaved.Tile1Q4_K<VnniMultiplyAdd>(packed.Group(g), n, act.Q(j), act.D(j), act.Sums32(j), n1 + rows * j + 8 * g);
            }
            DotInterleaved.Tile4Q4_KWide(a, b, n, act.Q(0), act.Q(1), act.Q(2), act.Q(3),
                act.D(0), act.D(1), act.D(2), act.D(3), act.Sums32(0), act.Sums32(1), act.Sums32(2), act.Sums32(3),
                w4, w4 + rows, w4 + 2 * rows, w4 + 3 * rows);
        }
        Assert.Equal(narrow4, wide4);
        Assert.Equal(narrow4, narrow1);
        Assert.Contains(wide4, v => v != 0);
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(-1.0f)]
    public void Q4_0TilesDoNotSaturateAtTheLargestSums(float sign)
    {
        // Every nibble 15 and every activation ±127: each 16-bit lane of the 512-bit body holds
        // 16 products of 15·127 = 30,480, the most a block can give; vpmaddubsw must not clamp.
        if (!DotInterleaved.IsSupported(InterleavedFormat.Q4_0)) return;
        const int cols = 64;
        var blocks = new byte[16 * 2 * 18];
        for (int i = 0; i < blocks.Length; i += 18)
        {
            BitConverter.TryWriteBytes(blocks.AsSpan(i), (ushort)0x3C00); // 1.0
            blocks.AsSpan(i + 2, 16).Fill(0xFF);
        }
        var act = new QuantizedActivations();
        var x = Enumerable.Repeat(sign, 4 * cols).ToArray();
        fixed (float* px = x) act.QuantizeQ8(px, cols, 4);
        fixed (byte* w = blocks)
        {
            using var packed = InterleavedWeights.Pack(GgmlType.Q4_0, w, 36, 16, cols);
            // Σ over 64 elements of (15 − 8)·(±127)·(1/127) = ±448 for every row and token.
            foreach (var (path, tile4, tile1) in VectorTiles(packed, act))
            {
                Assert.All(tile4, v => Assert.Equal(448f * sign, v));
                Assert.All(tile1, v => Assert.Equal(448f * sign, v));
            }
        }
    }

    /// <summary>Every vector body this CPU runs for the weights' format: (name, 4-token tile outputs, 1-token tile outputs), 4 tokens × group rows.</summary>
    private static List<(string Path, float[] Tile4, float[] Tile1)> VectorTiles(InterleavedWeights packed, QuantizedActivations act)
    {
        int rows = packed.GroupRows;
        var results = new List<(string Path, float[] Tile4, float[] Tile1)>();
        var paths = new List<string>();
        if (packed.Format == InterleavedFormat.Q4_0)
        {
            if (DotInterleaved.Q4_0Wide) paths.Add("avx512");
            if (KernelPaths.Best == KernelPath.AvxVnni) paths.Add("avxvnni");
            paths.Add("avx2");
        }
        else
        {
            paths.Add("default");
        }
        foreach (var path in paths)
        {
            var tile4 = new float[4 * rows];
            var tile1 = new float[4 * rows];
            fixed (float* p4 = tile4, p1 = tile1)
            {
                byte* g = packed.Group(0);
                int n = packed.Blocks;
                if (packed.Format == InterleavedFormat.Q4_K)
                {
                    DotInterleaved.Tile4Q4_K(g, n, act.Q(0), act.Q(1), act.Q(2), act.Q(3),
                        act.D(0), act.D(1), act.D(2), act.D(3), act.Sums32(0), act.Sums32(1), act.Sums32(2), act.Sums32(3),
                        p4, p4 + rows, p4 + 2 * rows, p4 + 3 * rows);
                    for (int j = 0; j < 4; j++) DotInterleaved.Tile1Q4_K(g, n, act.Q(j), act.D(j), act.Sums32(j), p1 + rows * j);
                }
                else if (path == "default")
                {
                    DotInterleaved.Tile4(packed.Format, g, n, act.Q(0), act.Q(1), act.Q(2), act.Q(3),
                        act.D(0), act.D(1), act.D(2), act.D(3), act.BlockSums(0), act.BlockSums(1), act.BlockSums(2), act.BlockSums(3),
                        p4, p4 + rows, p4 + 2 * rows, p4 + 3 * rows);
                    for (int j = 0; j < 4; j++) DotInterleaved.Tile1(packed.Format, g, n, act.Q(j), act.D(j), act.BlockSums(j), p1 + rows * j);
                }
                else if (path == "avx512")
                {
                    DotInterleaved.Tile4Q4_0Wide(g, n, act.Q(0), act.Q(1), act.Q(2), act.Q(3),
                        act.D(0), act.D(1), act.D(2), act.D(3), act.BlockSums(0), act.BlockSums(1), act.BlockSums(2), act.BlockSums(3),
                        p4, p4 + rows, p4 + 2 * rows, p4 + 3 * rows);
                    for (int j = 0; j < 4; j++) DotInterleaved.Tile1Q4_0Wide(g, n, act.Q(j), act.D(j), act.BlockSums(j), p1 + rows * j);
                }
                else
                {
                    for (int half = 0; half < 2; half++)
                    {
                        int o = 8 * half;
                        if (path == "avxvnni")
                        {
                            DotInterleaved.Tile4Q4_0Half<VnniMultiplyAdd>(g, n, half, act.Q(0), act.Q(1), act.Q(2), act.Q(3),
                                act.D(0), act.D(1), act.D(2), act.D(3), act.BlockSums(0), act.BlockSums(1), act.BlockSums(2), act.BlockSums(3),
                                p4 + o, p4 + rows + o, p4 + 2 * rows + o, p4 + 3 * rows + o);
                            for (int j = 0; j < 4; j++) DotInterleaved.Tile1Q4_0Half<VnniMultiplyAdd>(g, n, half, act.Q(j), act.D(j), act.BlockSums(j), p1 + rows * j + o);
                        }
                        else
                        {
                            DotInterleaved.Tile4Q4_0Half<Avx2MultiplyAdd>(g, n, half, act.Q(0), act.Q(1), act.Q(2), act.Q(3),
                                act.D(0), act.D(1), act.D(2), act.D(3), act.BlockSums(0), act.BlockSums(1), act.BlockSums(2), act.BlockSums(3),
                                p4 + o, p4 + rows + o, p4 + 2 * rows + o, p4 + 3 * rows + o);
                            for (int j = 0; j < 4; j++) DotInterleaved.Tile1Q4_0Half<Avx2MultiplyAdd>(g, n, half, act.Q(j), act.D(j), act.BlockSums(j), p1 + rows * j + o);
                        }
                    }
                }
            }
            results.Add((path, tile4, tile1));
        }
        return results;
    }

    /// <summary>The scalar reference tile over the packed layout, 4 tokens × group rows.</summary>
    private static float[] ScalarTile(InterleavedWeights packed, QuantizedActivations act)
    {
        int rows = packed.GroupRows;
        var y = new float[4 * rows];
        var xq = stackalloc sbyte*[4];
        var xd = stackalloc float*[4];
        var yp = stackalloc float*[4];
        fixed (float* py = y)
        {
            for (int j = 0; j < 4; j++)
            {
                xq[j] = act.Q(j);
                xd[j] = act.D(j);
                yp[j] = py + rows * j;
            }
            DotInterleaved.TileScalar(packed.Format, packed.Group(0), packed.Blocks, xq, xd, 4, yp);
        }
        return y;
    }

    /// <summary>Σ|term| of each output of the first group, the scale of its rounding error.</summary>
    private static double[] Magnitudes(InterleavedWeights packed, QuantizedActivations act)
    {
        var format = packed.Format;
        int rows = packed.GroupRows, perBlock = InterleavedWeights.ElementsPerBlock(format);
        var magnitude = new double[4 * rows];
        byte* group = packed.Group(0);
        for (int j = 0; j < 4; j++)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int b = 0; b < packed.Blocks; b++)
                {
                    double scale = Math.Abs(TestBlocks.FromHalf(InterleavedWeights.ScaleBits(format, group, packed.Blocks, b, r)) * act.D(j)[b]);
                    for (int k = 0; k < perBlock; k++)
                    {
                        int q = InterleavedWeights.Weight(format, group, packed.Blocks, b, r, k);
                        if (format == InterleavedFormat.Q4_K)
                        {
                            // d·sc·q and dmin·m are both terms of the sum.
                            byte* record = group + b * InterleavedWeights.Q4_KRecordBytes;
                            double dmin = Math.Abs(TestBlocks.FromHalf(((ushort*)record)[8 + r]) * act.D(j)[b]);
                            q *= InterleavedWeights.Q4_KScale(record, r, k / 32);
                            magnitude[rows * j + r] += dmin * InterleavedWeights.Q4_KMin(record, r, k / 32) * Math.Abs(act.Q(j)[perBlock * b + k]);
                        }
                        magnitude[rows * j + r] += scale * Math.Abs(q * act.Q(j)[perBlock * b + k]);
                    }
                }
            }
        }
        return magnitude;
    }

    [Theory]
    [InlineData(GgmlType.Q4_0, 1)]
    [InlineData(GgmlType.Q4_0, 7)]
    [InlineData(GgmlType.Q8_0, 1)]
    [InlineData(GgmlType.Q8_0, 9)]
    [InlineData(GgmlType.Q4_0, 11, 64)]
    [InlineData(GgmlType.Q4_0, 13)] // 8-token tiles, a 4-token tile and a single token
    [InlineData(GgmlType.Q4_0, 6, 32)]
    [InlineData(GgmlType.Q8_0, 5, 64)]
    [InlineData(GgmlType.Q4_K, 1, 1536)]
    [InlineData(GgmlType.Q4_K, 9, 256)]
    public void InterleavedMatMulEqualsRowMatMul(GgmlType type, int batch, int cols = 1024)
    {
        if (!DotInterleaved.IsSupported(InterleavedWeights.FormatOf(type)!.Value)) return;
        const int rows = 144; // 9 (Q4_0) or 18 groups over two threads, several row tiles per chunk
        var rng = new Random(23 + batch);
        var (weights, rowBytes, rowData) = RandomMatrix(type, rows, cols, rng);
        float[] x = new float[batch * cols];
        for (int t = 0; t < batch; t++) TestBlocks.RandomActivations(cols, rng).CopyTo(x, t * cols);
        float[] expected = new float[batch * rows], actual = new float[batch * rows];
        using var pool = new WorkerPool(2);
        var mm = new MatMulKernel(pool);
        fixed (byte* w = weights)
        fixed (float* px = x, pe = expected, pa = actual)
        {
            mm.MatMul(type, w, rowBytes, rows, cols, px, pe, batch);
            using var packed = InterleavedWeights.Pack(type, w, rowBytes, rows, cols, pool);
            mm.MatMul(packed, px, pa, batch);
        }
        // Both sum exact integer block products in float, in different orders: rounding relative to Σ|w·x|.
        var dequantized = rowData.Select(r => TestBlocks.Dequantize(type, r, cols)).ToArray();
        for (int t = 0; t < batch; t++)
        {
            for (int r = 0; r < rows; r++)
            {
                double magnitude = 0;
                for (int i = 0; i < cols; i++) magnitude += Math.Abs(dequantized[r][i] * x[t * cols + i]);
                int o = t * rows + r;
                Assert.True(Math.Abs(actual[o] - expected[o]) <= 1e-5 * magnitude + 1e-6, $"token {t} row {r}: {actual[o]} vs {expected[o]}");
            }
        }
    }

    [Fact]
    public void PackRejectsRowsThatDoNotFillGroups()
    {
        var weights = new byte[18 * 24];
        var ex = Assert.Throws<RetortException>(() =>
        {
            fixed (byte* w = weights) InterleavedWeights.Pack(GgmlType.Q4_0, w, 18, 24, 32);
        });
        Assert.Contains("multiple of 16", ex.Message);
        Assert.False(InterleavedWeights.CanPack(GgmlType.Q4_0, 24, 32));
        Assert.True(InterleavedWeights.CanPack(GgmlType.Q8_0, 24, 32));
    }

    private static (byte[] Weights, long RowBytes, byte[][] Rows) RandomMatrix(GgmlType type, int rows, int cols, Random rng)
    {
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        var data = new byte[rows][];
        var weights = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++)
        {
            data[r] = TestBlocks.RandomRow(type, cols, rng);
            data[r].CopyTo(weights, r * rowBytes);
        }
        return (weights, rowBytes, data);
    }

    private static QuantizedActivations Quantized(Random rng, int cols, int tokens, bool q8k = false)
    {
        var x = new float[tokens * cols];
        for (int t = 0; t < tokens; t++) TestBlocks.RandomActivations(cols, rng).CopyTo(x, t * cols);
        var act = new QuantizedActivations();
        fixed (float* px = x)
        {
            if (q8k) act.QuantizeQ8K(px, cols, tokens);
            else act.QuantizeQ8(px, cols, tokens);
        }
        return act;
    }

    /// <summary>Q4_K's 6-bit scale and min of sub-block j, decoded here from the 12 packed bytes (ggml's layout).</summary>
    private static (int Scale, int Min) Q4_KScaleMin(ReadOnlySpan<byte> q, int j) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    /// <summary>Element k of a row in the file's layout, read independently of the packing code.</summary>
    private static int QuantOf(GgmlType type, byte[] row, int k)
    {
        if (type == GgmlType.Q4_K)
        {
            // 4 chunks of 32 bytes per super-block: low nibbles are sub-block 2j, high 2j+1.
            int sb = k / 256, e = k % 256, j = e / 64, l = e % 32;
            byte q = row[144 * sb + 16 + 32 * j + l];
            return e % 64 < 32 ? q & 0xF : q >> 4;
        }
        int block = k / 32, i = k % 32;
        if (type == GgmlType.Q8_0) return (sbyte)row[34 * block + 2 + i];
        byte b = row[18 * block + 2 + (i % 16)];
        return (i < 16 ? b & 0xF : b >> 4) - 8;
    }
}
