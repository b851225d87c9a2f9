using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Retort.Engine.Kernels;

namespace Retort.Training.Kernels;

/// <summary>
/// Float32 matrix products for training: C = op(A)·op(B), or C += op(A)·op(B), row-major, where op
/// optionally transposes. One kernel serves the forward pass (X·Wᵀ), the input gradient (dY·W) and
/// the weight gradient (dYᵀ·X). The work is split into tiles of 64 rows × one panel of columns spread
/// over the worker pool; each tile packs its panel of B (256 k-values at a time, so it stays in L1)
/// and runs a 4-row register-blocked kernel that broadcasts A and multiplies-adds B vectors.
/// Holds per-operation state: one instance per thread issuing products.
/// </summary>
internal sealed unsafe class MatMul : IRangeJob
{
    private const int RowsPerTile = 64;
    private const int DepthBlock = 256;

    [ThreadStatic] private static float[]? s_panel;

    private readonly WorkerPool? _pool;
    private readonly int _panelWidth;

    private float* _a, _b, _c;
    private int _m, _n, _k;
    private long _aRowStride, _aDepthStride, _bDepthStride, _bColumnStride;
    private bool _accumulate;
    private int _panels;

    /// <param name="pool">Threads for the products; null runs on the calling thread.</param>
    public MatMul(WorkerPool? pool)
    {
        _pool = pool;
        _panelWidth = 2 * (Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector<float>.Count);
    }

    public int ThreadCount => _pool?.ThreadCount ?? 1;

    /// <summary>
    /// C[m,n] (+)= op(A)[m,k]·op(B)[k,n]. A is stored [m,k], or [k,m] when <paramref name="transposeA"/>;
    /// B is stored [k,n], or [n,k] when <paramref name="transposeB"/>.
    /// </summary>
    public void Multiply(ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b, bool transposeB, Span<float> c,
        int m, int n, int k, bool accumulate)
    {
        Check(a, b, c, m, n, k);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            _a = pa;
            _b = pb;
            _c = pc;
            _m = m;
            _n = n;
            _k = k;
            _aRowStride = transposeA ? 1 : k;
            _aDepthStride = transposeA ? m : 1;
            _bDepthStride = transposeB ? 1 : n;
            _bColumnStride = transposeB ? k : 1;
            _accumulate = accumulate;
            _panels = (n + _panelWidth - 1) / _panelWidth;
            int tiles = _panels * ((m + RowsPerTile - 1) / RowsPerTile);
            if (_pool != null && (long)m * n * k > 32 * 1024) _pool.Run(this, tiles, 1);
            else Execute(0, tiles);
            _a = _b = _c = null;
        }
    }

    /// <summary>The definition: plain loops, float32 sums in k order.</summary>
    public static void MultiplyScalar(ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b, bool transposeB, Span<float> c,
        int m, int n, int k, bool accumulate)
    {
        Check(a, b, c, m, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float sum = accumulate ? c[i * n + j] : 0f;
                for (int p = 0; p < k; p++)
                    sum += (transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = sum;
            }
    }

    private static void Check(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"matmul: negative shape m={m} n={n} k={k}");
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
            throw new ArgumentException($"matmul: buffers too small for m={m} n={n} k={k} (a {a.Length}, b {b.Length}, c {c.Length})");
    }

    public void Execute(int begin, int end)
    {
        int width = _panelWidth;
        var panel = s_panel;
        if (panel == null || panel.Length < DepthBlock * width) s_panel = panel = new float[DepthBlock * width];
        fixed (float* packed = panel)
        {
            for (int tile = begin; tile < end; tile++)
            {
                int p = tile % _panels;
                int j0 = p * width;
                int cols = Math.Min(width, _n - j0);
                int i0 = tile / _panels * RowsPerTile;
                int i1 = Math.Min(i0 + RowsPerTile, _m);
                for (int k0 = 0; k0 < _k; k0 += DepthBlock)
                {
                    int depth = Math.Min(DepthBlock, _k - k0);
                    Pack(packed, k0, depth, j0, cols);
                    bool add = _accumulate || k0 > 0;
                    int i = i0;
                    for (; i + 4 <= i1; i += 4) Block(packed, i, 4, k0, depth, j0, cols, add);
                    for (; i < i1; i++) Block(packed, i, 1, k0, depth, j0, cols, add);
                }
            }
        }
    }

    /// <summary>Copies op(B)[k0..k0+depth, j0..j0+cols] into packed (depth rows of panel width, zero padded).</summary>
    private void Pack(float* packed, int k0, int depth, int j0, int cols)
    {
        int width = _panelWidth;
        if (_bColumnStride == 1)
        {
            for (int p = 0; p < depth; p++)
            {
                float* src = _b + (k0 + p) * _bDepthStride + j0;
                float* dst = packed + p * width;
                int j = 0;
                for (; j < cols; j++) dst[j] = src[j];
                for (; j < width; j++) dst[j] = 0f;
            }
        }
        else
        {
            for (int j = 0; j < width; j++)
            {
                if (j < cols)
                {
                    float* src = _b + (j0 + j) * _bColumnStride + k0;
                    for (int p = 0; p < depth; p++) packed[p * width + j] = src[p];
                }
                else
                {
                    for (int p = 0; p < depth; p++) packed[p * width + j] = 0f;
                }
            }
        }
    }

    private void Block(float* packed, int i, int rows, int k0, int depth, int j0, int cols, bool add)
    {
        int width = _panelWidth;
        float* tile = stackalloc float[4 * 32];
        float* c = _c + (long)i * _n + j0;
        bool full = cols == width;
        // Partial panels go through a scratch tile so the kernel always reads and writes whole vectors.
        float* target = full ? c : tile;
        long stride = full ? _n : width;
        if (!full)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < width; j++)
                    tile[r * width + j] = add && j < cols ? c[r * _n + j] : 0f;
        float* a = _a + i * _aRowStride + k0 * _aDepthStride;
        bool load = add || !full;
        if (rows == 4)
        {
            if (Vector512.IsHardwareAccelerated) Kernel4x512(a, packed, depth, target, stride, load);
            else Kernel4(a, packed, depth, target, stride, load);
        }
        else
        {
            Kernel1(a, packed, depth, target, load);
        }
        if (!full)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < cols; j++)
                    c[r * _n + j] = tile[r * width + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Kernel4x512(float* a, float* packed, int depth, float* c, long stride, bool load)
    {
        long ar = _aRowStride, ad = _aDepthStride;
        const int w = 16;
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (load)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + w);
            c10 = Vector512.Load(c + stride); c11 = Vector512.Load(c + stride + w);
            c20 = Vector512.Load(c + 2 * stride); c21 = Vector512.Load(c + 2 * stride + w);
            c30 = Vector512.Load(c + 3 * stride); c31 = Vector512.Load(c + 3 * stride + w);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
        }
        float* a0 = a, a1 = a + ar, a2 = a + 2 * ar, a3 = a + 3 * ar;
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector512.Load(packed);
            var b1 = Vector512.Load(packed + w);
            packed += 2 * w;
            long o = p * ad;
            var x = Vector512.Create(a0[o]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[o]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[o]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[o]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
        }
        c00.Store(c); c01.Store(c + w);
        c10.Store(c + stride); c11.Store(c + stride + w);
        c20.Store(c + 2 * stride); c21.Store(c + 2 * stride + w);
        c30.Store(c + 3 * stride); c31.Store(c + 3 * stride + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Kernel4(float* a, float* packed, int depth, float* c, long stride, bool load)
    {
        long ar = _aRowStride, ad = _aDepthStride;
        int w = Vector<float>.Count;
        Vector<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (load)
        {
            c00 = Vector.Load(c); c01 = Vector.Load(c + w);
            c10 = Vector.Load(c + stride); c11 = Vector.Load(c + stride + w);
            c20 = Vector.Load(c + 2 * stride); c21 = Vector.Load(c + 2 * stride + w);
            c30 = Vector.Load(c + 3 * stride); c31 = Vector.Load(c + 3 * stride + w);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector<float>.Zero;
        }
        float* a0 = a, a1 = a + ar, a2 = a + 2 * ar, a3 = a + 3 * ar;
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector.Load(packed);
            var b1 = Vector.Load(packed + w);
            packed += 2 * w;
            long o = p * ad;
            var x = new Vector<float>(a0[o]);
            c00 = Vector.FusedMultiplyAdd(x, b0, c00); c01 = Vector.FusedMultiplyAdd(x, b1, c01);
            x = new Vector<float>(a1[o]);
            c10 = Vector.FusedMultiplyAdd(x, b0, c10); c11 = Vector.FusedMultiplyAdd(x, b1, c11);
            x = new Vector<float>(a2[o]);
            c20 = Vector.FusedMultiplyAdd(x, b0, c20); c21 = Vector.FusedMultiplyAdd(x, b1, c21);
            x = new Vector<float>(a3[o]);
            c30 = Vector.FusedMultiplyAdd(x, b0, c30); c31 = Vector.FusedMultiplyAdd(x, b1, c31);
        }
        c00.Store(c); c01.Store(c + w);
        c10.Store(c + stride); c11.Store(c + stride + w);
        c20.Store(c + 2 * stride); c21.Store(c + 2 * stride + w);
        c30.Store(c + 3 * stride); c31.Store(c + 3 * stride + w);
    }

    private void Kernel1(float* a, float* packed, int depth, float* c, bool load)
    {
        int width = _panelWidth, w = Vector<float>.Count;
        long ad = _aDepthStride;
        for (int j = 0; j < width; j += w)
        {
            var acc = load ? Vector.Load(c + j) : Vector<float>.Zero;
            for (int p = 0; p < depth; p++)
                acc = Vector.FusedMultiplyAdd(new Vector<float>(a[p * ad]), Vector.Load(packed + p * width + j), acc);
            acc.Store(c + j);
        }
    }
}
