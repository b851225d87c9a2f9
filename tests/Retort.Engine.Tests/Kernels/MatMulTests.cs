using Retort.Engine.Kernels;
using Retort.Engine.Tensors;

namespace Retort.Engine.Tests.Kernels;

[Collection(AllocationCollection.Name)]
public sealed unsafe class MatMulTests
{
    [Theory]
    [InlineData(GgmlType.Q8_0, GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K, GgmlType.Q6_K)]
    public void ReusedInputGivesTheSameResultsAndNeverAStaleOne(GgmlType first, GgmlType second)
    {
        const int rows = 48, cols = 512, batch = 9; // 9 rows: quantized on the pool
        var rng = new Random(7);
        byte[] MakeWeights(GgmlType type) => Enumerable.Range(0, rows).SelectMany(_ => TestBlocks.RandomRow(type, cols, rng)).ToArray();
        byte[] a = MakeWeights(first), b = MakeWeights(second), f = MakeWeights(GgmlType.F32);
        float[] x = Enumerable.Range(0, batch).SelectMany(_ => TestBlocks.RandomActivations(cols, rng)).ToArray();
        float[] expected = new float[batch * rows], reused = new float[batch * rows], scratch = new float[batch * rows];
        using var pool = new WorkerPool(2);
        var fresh = new MatMulKernel(pool);
        var mm = new MatMulKernel(pool);
        fixed (byte* pa = a, pb = b, pf = f)
        fixed (float* px = x, pe = expected, pr = reused, ps = scratch)
        {
            fresh.MatMul(second, pb, GgmlTypeInfo.RowBytes(second, cols), rows, cols, px, pe, batch);
            mm.MatMul(first, pa, GgmlTypeInfo.RowBytes(first, cols), rows, cols, px, ps, batch);
            mm.MatMul(second, pb, GgmlTypeInfo.RowBytes(second, cols), rows, cols, px, pr, batch, reuseInput: true);
            Assert.Equal(expected, reused);

            // New contents at the same address, then a float matmul that quantizes nothing: the next
            // reuseInput call must not see the old quantized rows.
            for (int i = 0; i < x.Length; i++) x[i] = -2 * x[i];
            fresh.MatMul(second, pb, GgmlTypeInfo.RowBytes(second, cols), rows, cols, px, pe, batch);
            mm.MatMul(GgmlType.F32, pf, GgmlTypeInfo.RowBytes(GgmlType.F32, cols), rows, cols, px, ps, batch);
            mm.MatMul(second, pb, GgmlTypeInfo.RowBytes(second, cols), rows, cols, px, pr, batch, reuseInput: true);
            Assert.Equal(expected, reused);
        }
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, 1)]
    [InlineData(GgmlType.Q8_0, 7)]
    [InlineData(GgmlType.Q4_0, 1)]
    [InlineData(GgmlType.Q4_0, 7)]
    [InlineData(GgmlType.Q4_K, 1)]
    [InlineData(GgmlType.Q4_K, 7)]
    [InlineData(GgmlType.Q6_K, 1)]
    [InlineData(GgmlType.Q6_K, 7)]
    [InlineData(GgmlType.F16, 1)]
    [InlineData(GgmlType.F16, 7)]
    [InlineData(GgmlType.BF16, 7)]
    [InlineData(GgmlType.F32, 7)]
    [InlineData(GgmlType.Q8_0, 3, 8960)] // rows of 9.5 KB: several L2 row tiles per chunk
    [InlineData(GgmlType.Q6_K, 5, 8960)]
    public void MatMulEqualsPerRowDots(GgmlType type, int batch, int cols = 512)
    {
        const int rows = 101; // several work chunks plus a ragged last one
        var rng = new Random(31 * (int)type + batch);
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        var rowsData = new byte[rows][];
        byte[] weights = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++)
        {
            rowsData[r] = TestBlocks.RandomRow(type, cols, rng);
            rowsData[r].CopyTo(weights, r * rowBytes);
        }
        float[] x = new float[batch * cols];
        for (int t = 0; t < batch; t++) TestBlocks.RandomActivations(cols, rng).CopyTo(x, t * cols);
        float[] y = new float[batch * rows];

        using var pool = new WorkerPool(2);
        var mm = new MatMulKernel(pool);
        fixed (byte* w = weights)
        fixed (float* xp = x, yp = y)
            mm.MatMul(type, w, rowBytes, rows, cols, xp, yp, batch);

        var act = new QuantizedActivations();
        for (int t = 0; t < batch; t++)
        {
            float[] xt = x.AsSpan(t * cols, cols).ToArray();
            for (int r = 0; r < rows; r++)
            {
                float expected = DotProductTests.KernelDot(type, KernelPaths.Best, rowsData[r], xt, act);
                // The 4-row kernels sum in another order than the 1-row ones: allow float rounding
                // relative to Σ|w·x| (see DotProductTests for the bound).
                double[] wr = TestBlocks.Dequantize(type, rowsData[r], cols);
                double magnitude = 0;
                for (int i = 0; i < cols; i++) magnitude += Math.Abs(wr[i] * xt[i]);
                Assert.True(Math.Abs(y[t * rows + r] - expected) <= 1e-4 * magnitude + 1e-6,
                    $"{type} token {t} row {r}: {y[t * rows + r]} vs {expected}");
            }
        }
    }

    [Fact]
    public void MatMulRejectsShortRowStride()
    {
        using var pool = new WorkerPool(1);
        var mm = new MatMulKernel(pool);
        var ex = Assert.Throws<RetortException>(() =>
        {
            float* x = stackalloc float[64];
            float* y = stackalloc float[1];
            byte* w = stackalloc byte[68];
            mm.MatMul(GgmlType.Q8_0, w, 34, 1, 64, x, y, 1);
        });
        Assert.Contains("row stride", ex.Message);
    }

    [Fact]
    public void MatMulDoesNotAllocateInSteadyState()
    {
        const int rows = 256, cols = 1024;
        var rng = new Random(3);
        byte[] weights = new byte[rows * GgmlTypeInfo.RowBytes(GgmlType.Q4_0, cols)];
        for (int r = 0; r < rows; r++)
            TestBlocks.RandomRow(GgmlType.Q4_0, cols, rng).CopyTo(weights, r * GgmlTypeInfo.RowBytes(GgmlType.Q4_0, cols));
        float[] x = TestBlocks.RandomActivations(cols * 4, rng);
        float[] y = new float[rows * 4];
        using var pool = new WorkerPool(2);
        var mm = new MatMulKernel(pool);
        fixed (byte* w = weights)
        fixed (float* xp = x, yp = y)
        {
            for (int i = 0; i < 20; i++) mm.MatMul(GgmlType.Q4_0, w, weights.Length / rows, rows, cols, xp, yp, 4);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++) mm.MatMul(GgmlType.Q4_0, w, weights.Length / rows, rows, cols, xp, yp, 1 + i % 4);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
