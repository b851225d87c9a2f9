using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Retort.Engine.Kernels;

/// <summary>
/// One pass of attention with an online softmax (flash attention) for a set of query vectors
/// that share one KV head: the query heads of a GQA group, for one or several rows of a prompt.
/// Keys and values arrive in tiles of float rows; each tile updates, per query vector, the
/// running maximum m, the running sum l and the unnormalized output o, so no score row is ever
/// materialised beyond one tile and each key and value row is read once for the whole group.
///
/// Scores are computed as Sᵀ = K·Qᵀ with the queries transposed once ([hd][lanes]): each key
/// element is broadcast against a vector of query vectors, so there is no horizontal sum per
/// dot product, and the softmax of a tile works on whole vectors (one lane per query vector).
/// The value sum o += P·V vectorizes over the head dimension. Lane widths are generic
/// (<see cref="IFloatLanes{TV}"/>); <see cref="TileScalar"/> is the reference the vector body is held to.
/// </summary>
internal static unsafe class FlashAttention
{
    /// <summary>Key rows per tile: divides <c>KvCache.PageSize</c>, so no tile crosses a page.</summary>
    public const int TileKeys = 32;

    /// <summary>Vectors of query lanes a tile works on at most (so 48 query vectors at 512 bits).</summary>
    public const int MaxChunks = 3;

    /// <summary>A finite floor for the running maximum: keeps exp(m_old − m_new) at 1, never NaN, while every key so far was masked.</summary>
    public const float NoScore = -1e30f;

    /// <summary>Sets a run's state: m = <see cref="NoScore"/>, l = 0, o = 0.</summary>
    public static void Begin(float* mx, float* l, float* o, int queries, int mPad, int hd)
    {
        for (int i = 0; i < mPad; i++)
        {
            mx[i] = NoScore;
            l[i] = 0;
        }
        new Span<float>(o, queries * hd).Clear();
    }

    /// <summary>o[i] /= l[i] for each query vector: the run's result.</summary>
    public static void Finish(float* l, float* o, int queries, int hd)
    {
        for (int i = 0; i < queries; i++)
        {
            float inv = l[i] > 0 ? 1f / l[i] : 0f;
            float* oi = o + (long)i * hd;
            for (int d = 0; d < hd; d++) oi[d] *= inv;
        }
    }

    /// <summary>
    /// Folds one tile of <paramref name="t"/> keys (rows of <paramref name="hd"/> floats at
    /// <paramref name="k"/>, positions keyStart…) and values into the state.
    /// <paramref name="qt"/>: the scaled queries transposed, [hd][mPad]; <paramref name="qpos"/>:
    /// each query vector's position (−1 for padding lanes), used when <paramref name="causal"/>;
    /// <paramref name="s"/>: scratch of TileKeys·mPad floats; <paramref name="corr"/>: mPad floats.
    /// </summary>
    public static void Tile(float* qt, float* qpos, int queries, int mPad, int hd, float* k, float* v, int t, int keyStart,
        bool causal, float* mx, float* l, float* o, float* s, float* corr)
    {
        if (Vector512.IsHardwareAccelerated && mPad % 16 == 0)
        {
            switch (mPad / 16)
            {
                case 1: Tile<Lanes512, Vector512<float>, One>(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr); return;
                case 2: Tile<Lanes512, Vector512<float>, Two>(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr); return;
                case 3: Tile<Lanes512, Vector512<float>, Three>(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr); return;
            }
        }
        if (Vector256.IsHardwareAccelerated && mPad % 8 == 0)
        {
            switch (mPad / 8)
            {
                case 1: Tile<Lanes256, Vector256<float>, One>(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr); return;
                case 2: Tile<Lanes256, Vector256<float>, Two>(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr); return;
                case 3: Tile<Lanes256, Vector256<float>, Three>(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr); return;
            }
        }
        if (Vector128.IsHardwareAccelerated && mPad % 4 == 0)
        {
            switch (mPad / 4)
            {
                case 1: Tile<Lanes128, Vector128<float>, One>(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr); return;
                case 2: Tile<Lanes128, Vector128<float>, Two>(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr); return;
                case 3: Tile<Lanes128, Vector128<float>, Three>(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr); return;
            }
        }
        TileScalar(qt, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr);
    }

    /// <summary>
    /// <see cref="Tile"/> for a few query vectors (a decode step: the heads of one GQA group):
    /// <paramref name="q"/> holds them row by row, [queries][hd], and the scores are dot products
    /// along the head dimension at full vector width, four keys sharing one reduction. With fewer
    /// query vectors than lanes this beats broadcasting keys against a mostly empty lane vector.
    /// </summary>
    public static void TileRows(float* q, float* qpos, int queries, int mPad, int hd, float* k, float* v, int t, int keyStart,
        bool causal, float* mx, float* l, float* o, float* s, float* corr)
    {
        if (Vector512.IsHardwareAccelerated && hd % 16 == 0) TileRows<Lanes512, Vector512<float>>(q, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr);
        else if (Vector256.IsHardwareAccelerated && hd % 8 == 0) TileRows<Lanes256, Vector256<float>>(q, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr);
        else if (Vector128.IsHardwareAccelerated && hd % 4 == 0) TileRows<Lanes128, Vector128<float>>(q, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr);
        else TileRowsScalar(q, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr);
    }

    /// <summary>Whether <see cref="TileRows"/> is the better body for this many query vectors.</summary>
    public static bool PrefersRows(int queries, int hd) => queries <= 8 && hd % 4 == 0;

    /// <summary>The reference for <see cref="TileRows"/>: transposes the queries and runs <see cref="TileScalar"/>.</summary>
    public static void TileRowsScalar(float* q, float* qpos, int queries, int mPad, int hd, float* k, float* v, int t, int keyStart,
        bool causal, float* mx, float* l, float* o, float* s, float* corr)
    {
        float[] qt = new float[hd * mPad];
        for (int i = 0; i < queries; i++)
            for (int d = 0; d < hd; d++) qt[d * mPad + i] = q[(long)i * hd + d];
        fixed (float* pq = qt) TileScalar(pq, qpos, queries, mPad, hd, k, v, t, keyStart, causal, mx, l, o, s, corr);
    }

    private static void TileRows<TL, TV>(float* q, float* qpos, int queries, int mPad, int hd, float* k, float* v, int t, int keyStart,
        bool causal, float* mx, float* l, float* o, float* s, float* corr)
        where TL : struct, IFloatLanes<TV> where TV : struct
    {
        // Padding lanes score zero; the mask (their position is −1) or their zero output keeps them inert.
        for (int j = 0; j < t; j++)
            for (int i = queries; i < mPad; i++) s[j * mPad + i] = 0;
        for (int i = 0; i < queries; i++) ScoresRow<TL, TV>(q + (long)i * hd, hd, k, t, s + i, mPad);
        SoftmaxAnyWidth(qpos, mPad, t, keyStart, causal, mx, l, s, corr);
        WeightedValues<TL, TV>(queries, mPad, hd, v, t, o, s, corr);
    }

    // s[j·stride] = q·k[j] for one query vector, four keys per shared reduction.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoresRow<TL, TV>(float* q, int hd, float* k, int t, float* s, int stride)
        where TL : struct, IFloatLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        int j = 0;
        for (; j + 4 <= t; j += 4)
        {
            float* k0 = k + (long)j * hd, k1 = k0 + hd, k2 = k1 + hd, k3 = k2 + hd;
            TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero;
            for (int d = 0; d < hd; d += lanes)
            {
                TV qv = TL.Load(q + d);
                a0 = TL.Fma(qv, TL.Load(k0 + d), a0);
                a1 = TL.Fma(qv, TL.Load(k1 + d), a1);
                a2 = TL.Fma(qv, TL.Load(k2 + d), a2);
                a3 = TL.Fma(qv, TL.Load(k3 + d), a3);
            }
            TL.Sum4(a0, a1, a2, a3, s + j * stride, stride);
        }
        for (; j < t; j++)
        {
            float* kj = k + (long)j * hd;
            TV a = TL.Zero;
            for (int d = 0; d < hd; d += lanes) a = TL.Fma(TL.Load(q + d), TL.Load(kj + d), a);
            s[j * stride] = TL.Sum(a);
        }
    }

    private static void SoftmaxAnyWidth(float* qpos, int mPad, int t, int keyStart, bool causal, float* mx, float* l, float* s, float* corr)
    {
        if (Vector512.IsHardwareAccelerated && mPad == 16) Softmax<Lanes512, Vector512<float>, One>(qpos, mPad, t, keyStart, causal, mx, l, s, corr);
        else if (Vector256.IsHardwareAccelerated && mPad == 8) Softmax<Lanes256, Vector256<float>, One>(qpos, mPad, t, keyStart, causal, mx, l, s, corr);
        else if (Vector128.IsHardwareAccelerated && mPad == 4) Softmax<Lanes128, Vector128<float>, One>(qpos, mPad, t, keyStart, causal, mx, l, s, corr);
        else if (Vector128.IsHardwareAccelerated && mPad == 8) Softmax<Lanes128, Vector128<float>, Two>(qpos, mPad, t, keyStart, causal, mx, l, s, corr);
        else SoftmaxScalar(qpos, mPad, t, keyStart, causal, mx, l, s, corr);
    }

    private static void SoftmaxScalar(float* qpos, int mPad, int t, int keyStart, bool causal, float* mx, float* l, float* s, float* corr)
    {
        for (int i = 0; i < mPad; i++)
        {
            float tileMax = float.NegativeInfinity;
            for (int j = 0; j < t; j++)
            {
                if (causal && keyStart + j > qpos[i]) s[j * mPad + i] = float.NegativeInfinity;
                tileMax = MathF.Max(tileMax, s[j * mPad + i]);
            }
            float mNew = MathF.Max(mx[i], tileMax);
            corr[i] = MathF.Exp(mx[i] - mNew);
            float sum = 0;
            for (int j = 0; j < t; j++)
            {
                float p = MathF.Exp(s[j * mPad + i] - mNew);
                s[j * mPad + i] = p;
                sum += p;
            }
            l[i] = l[i] * corr[i] + sum;
            mx[i] = mNew;
        }
    }

    /// <summary>The lane padding a set of <paramref name="queries"/> query vectors runs at on this CPU (what <see cref="Tile"/> wants as mPad).</summary>
    public static int PaddedQueries(int queries)
    {
        int lanes = Vector512.IsHardwareAccelerated && queries > 8 ? 16
            : Vector256.IsHardwareAccelerated ? 8
            : Vector128.IsHardwareAccelerated ? 4 : 1;
        return (queries + lanes - 1) / lanes * lanes;
    }

    /// <summary>Query vectors one tile takes at most on this CPU.</summary>
    public static int MaxQueries =>
        MaxChunks * (Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : Vector128.IsHardwareAccelerated ? 4 : 16);

    /// <summary>The reference: the same state update, one float at a time.</summary>
    public static void TileScalar(float* qt, float* qpos, int queries, int mPad, int hd, float* k, float* v, int t, int keyStart,
        bool causal, float* mx, float* l, float* o, float* s, float* corr)
    {
        for (int j = 0; j < t; j++)
        {
            for (int i = 0; i < mPad; i++)
            {
                float acc = 0;
                for (int d = 0; d < hd; d++) acc += k[(long)j * hd + d] * qt[d * mPad + i];
                s[j * mPad + i] = acc;
            }
        }
        SoftmaxScalar(qpos, mPad, t, keyStart, causal, mx, l, s, corr);
        for (int i = 0; i < queries; i++)
        {
            float* oi = o + (long)i * hd;
            for (int d = 0; d < hd; d++)
            {
                float acc = oi[d] * corr[i];
                for (int j = 0; j < t; j++) acc += s[j * mPad + i] * v[(long)j * hd + d];
                oi[d] = acc;
            }
        }
    }

    private static void Tile<TL, TV, TC>(float* qt, float* qpos, int queries, int mPad, int hd, float* k, float* v, int t, int keyStart,
        bool causal, float* mx, float* l, float* o, float* s, float* corr)
        where TL : struct, IFloatLanes<TV> where TV : struct where TC : struct, IChunkCount
    {
        Scores<TL, TV, TC>(qt, mPad, hd, k, t, s);
        Softmax<TL, TV, TC>(qpos, mPad, t, keyStart, causal, mx, l, s, corr);
        WeightedValues<TL, TV>(queries, mPad, hd, v, t, o, s, corr);
    }

    // Sᵀ[j][lanes] = Σ_d k[j][d]·qt[d][lanes], four key rows at a time: per head-dim element,
    // TC.N loads of query lanes and four broadcast keys feed 4·TC.N fused multiply-adds.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores<TL, TV, TC>(float* qt, int mPad, int hd, float* k, int t, float* s)
        where TL : struct, IFloatLanes<TV> where TV : struct where TC : struct, IChunkCount
    {
        int lanes = TL.Count;
        int j = 0;
        for (; j + 4 <= t; j += 4)
        {
            float* k0 = k + (long)j * hd, k1 = k0 + hd, k2 = k1 + hd, k3 = k2 + hd;
            TV a00 = TL.Zero, a01 = TL.Zero, a02 = TL.Zero;
            TV a10 = TL.Zero, a11 = TL.Zero, a12 = TL.Zero;
            TV a20 = TL.Zero, a21 = TL.Zero, a22 = TL.Zero;
            TV a30 = TL.Zero, a31 = TL.Zero, a32 = TL.Zero;
            float* q = qt;
            for (int d = 0; d < hd; d++, q += mPad)
            {
                TV q0 = TL.Load(q);
                TV q1 = TC.N > 1 ? TL.Load(q + lanes) : TL.Zero;
                TV q2 = TC.N > 2 ? TL.Load(q + 2 * lanes) : TL.Zero;
                TV b = TL.Splat(k0[d]);
                a00 = TL.Fma(b, q0, a00);
                if (TC.N > 1) a01 = TL.Fma(b, q1, a01);
                if (TC.N > 2) a02 = TL.Fma(b, q2, a02);
                b = TL.Splat(k1[d]);
                a10 = TL.Fma(b, q0, a10);
                if (TC.N > 1) a11 = TL.Fma(b, q1, a11);
                if (TC.N > 2) a12 = TL.Fma(b, q2, a12);
                b = TL.Splat(k2[d]);
                a20 = TL.Fma(b, q0, a20);
                if (TC.N > 1) a21 = TL.Fma(b, q1, a21);
                if (TC.N > 2) a22 = TL.Fma(b, q2, a22);
                b = TL.Splat(k3[d]);
                a30 = TL.Fma(b, q0, a30);
                if (TC.N > 1) a31 = TL.Fma(b, q1, a31);
                if (TC.N > 2) a32 = TL.Fma(b, q2, a32);
            }
            float* s0 = s + j * mPad;
            StoreRow<TL, TV, TC>(s0, lanes, a00, a01, a02);
            StoreRow<TL, TV, TC>(s0 + mPad, lanes, a10, a11, a12);
            StoreRow<TL, TV, TC>(s0 + 2 * mPad, lanes, a20, a21, a22);
            StoreRow<TL, TV, TC>(s0 + 3 * mPad, lanes, a30, a31, a32);
        }
        for (; j < t; j++)
        {
            float* kj = k + (long)j * hd;
            TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero;
            float* q = qt;
            for (int d = 0; d < hd; d++, q += mPad)
            {
                TV b = TL.Splat(kj[d]);
                a0 = TL.Fma(b, TL.Load(q), a0);
                if (TC.N > 1) a1 = TL.Fma(b, TL.Load(q + lanes), a1);
                if (TC.N > 2) a2 = TL.Fma(b, TL.Load(q + 2 * lanes), a2);
            }
            StoreRow<TL, TV, TC>(s + j * mPad, lanes, a0, a1, a2);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TL, TV, TC>(float* row, int lanes, TV a0, TV a1, TV a2)
        where TL : struct, IFloatLanes<TV> where TV : struct where TC : struct, IChunkCount
    {
        TL.Store(row, a0);
        if (TC.N > 1) TL.Store(row + lanes, a1);
        if (TC.N > 2) TL.Store(row + 2 * lanes, a2);
    }

    // Per lane (query vector): the tile's maximum, the new running maximum, the correction of what
    // was summed so far, and the probabilities, written over the scores.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Softmax<TL, TV, TC>(float* qpos, int mPad, int t, int keyStart, bool causal, float* mx, float* l, float* s, float* corr)
        where TL : struct, IFloatLanes<TV> where TV : struct where TC : struct, IChunkCount
    {
        int lanes = TL.Count;
        for (int c = 0; c < TC.N; c++)
        {
            int off = c * lanes;
            TV positions = TL.Load(qpos + off);
            TV tileMax = TL.Splat(float.NegativeInfinity);
            float* sj = s + off;
            for (int j = 0; j < t; j++, sj += mPad)
            {
                TV x = TL.Load(sj);
                if (causal)
                {
                    x = TL.Causal(x, positions, keyStart + j);
                    TL.Store(sj, x);
                }
                tileMax = TL.Max(tileMax, x);
            }
            TV mOld = TL.Load(mx + off);
            TV mNew = TL.Max(mOld, tileMax);
            TV correction = TL.Exp(TL.Sub(mOld, mNew));
            TV sum = TL.Zero;
            sj = s + off;
            for (int j = 0; j < t; j++, sj += mPad)
            {
                TV p = TL.Exp(TL.Sub(TL.Load(sj), mNew));
                TL.Store(sj, p);
                sum = TL.Add(sum, p);
            }
            TL.Store(l + off, TL.Fma(TL.Load(l + off), correction, sum));
            TL.Store(mx + off, mNew);
            TL.Store(corr + off, correction);
        }
    }

    // o[i] = o[i]·corr[i] + Σ_j p[j][i]·v[j]: four query vectors × four vectors of the head
    // dimension in registers, so each value row is loaded once for four query vectors.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightedValues<TL, TV>(int queries, int mPad, int hd, float* v, int t, float* o, float* s, float* corr)
        where TL : struct, IFloatLanes<TV> where TV : struct
    {
        int lanes = TL.Count;
        int i = 0;
        for (; i + 4 <= queries; i += 4)
        {
            int d = 0;
            for (; d + 4 * lanes <= hd; d += 4 * lanes) ValueBlock<TL, TV, Four, Four>(i, d, mPad, hd, v, t, o, s, corr);
            for (; d + lanes <= hd; d += lanes) ValueBlock<TL, TV, Four, One>(i, d, mPad, hd, v, t, o, s, corr);
            if (d < hd) ValueTail(i, 4, d, mPad, hd, v, t, o, s, corr);
        }
        for (; i < queries; i++)
        {
            int d = 0;
            for (; d + 4 * lanes <= hd; d += 4 * lanes) ValueBlock<TL, TV, One, Four>(i, d, mPad, hd, v, t, o, s, corr);
            for (; d + lanes <= hd; d += lanes) ValueBlock<TL, TV, One, One>(i, d, mPad, hd, v, t, o, s, corr);
            if (d < hd) ValueTail(i, 1, d, mPad, hd, v, t, o, s, corr);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ValueBlock<TL, TV, TQ, TD>(int i, int d, int mPad, int hd, float* v, int t, float* o, float* s, float* corr)
        where TL : struct, IFloatLanes<TV> where TV : struct where TQ : struct, IChunkCount where TD : struct, IChunkCount
    {
        int lanes = TL.Count;
        float* o0 = o + (long)i * hd + d, o1 = o0 + hd, o2 = o1 + hd, o3 = o2 + hd;
        TV c0 = TL.Splat(corr[i]);
        TV x00 = TL.Mul(TL.Load(o0), c0);
        TV x01 = TD.N > 1 ? TL.Mul(TL.Load(o0 + lanes), c0) : TL.Zero;
        TV x02 = TD.N > 1 ? TL.Mul(TL.Load(o0 + 2 * lanes), c0) : TL.Zero;
        TV x03 = TD.N > 1 ? TL.Mul(TL.Load(o0 + 3 * lanes), c0) : TL.Zero;
        TV x10 = TL.Zero, x11 = TL.Zero, x12 = TL.Zero, x13 = TL.Zero;
        TV x20 = TL.Zero, x21 = TL.Zero, x22 = TL.Zero, x23 = TL.Zero;
        TV x30 = TL.Zero, x31 = TL.Zero, x32 = TL.Zero, x33 = TL.Zero;
        if (TQ.N > 1)
        {
            TV c1 = TL.Splat(corr[i + 1]), c2 = TL.Splat(corr[i + 2]), c3 = TL.Splat(corr[i + 3]);
            x10 = TL.Mul(TL.Load(o1), c1);
            x20 = TL.Mul(TL.Load(o2), c2);
            x30 = TL.Mul(TL.Load(o3), c3);
            if (TD.N > 1)
            {
                x11 = TL.Mul(TL.Load(o1 + lanes), c1);
                x12 = TL.Mul(TL.Load(o1 + 2 * lanes), c1);
                x13 = TL.Mul(TL.Load(o1 + 3 * lanes), c1);
                x21 = TL.Mul(TL.Load(o2 + lanes), c2);
                x22 = TL.Mul(TL.Load(o2 + 2 * lanes), c2);
                x23 = TL.Mul(TL.Load(o2 + 3 * lanes), c2);
                x31 = TL.Mul(TL.Load(o3 + lanes), c3);
                x32 = TL.Mul(TL.Load(o3 + 2 * lanes), c3);
                x33 = TL.Mul(TL.Load(o3 + 3 * lanes), c3);
            }
        }
        float* vj = v + d;
        float* pj = s + i;
        for (int j = 0; j < t; j++, vj += hd, pj += mPad)
        {
            TV v0 = TL.Load(vj);
            TV v1 = TD.N > 1 ? TL.Load(vj + lanes) : TL.Zero;
            TV v2 = TD.N > 1 ? TL.Load(vj + 2 * lanes) : TL.Zero;
            TV v3 = TD.N > 1 ? TL.Load(vj + 3 * lanes) : TL.Zero;
            TV p = TL.Splat(pj[0]);
            x00 = TL.Fma(p, v0, x00);
            if (TD.N > 1)
            {
                x01 = TL.Fma(p, v1, x01);
                x02 = TL.Fma(p, v2, x02);
                x03 = TL.Fma(p, v3, x03);
            }
            if (TQ.N > 1)
            {
                p = TL.Splat(pj[1]);
                x10 = TL.Fma(p, v0, x10);
                if (TD.N > 1)
                {
                    x11 = TL.Fma(p, v1, x11);
                    x12 = TL.Fma(p, v2, x12);
                    x13 = TL.Fma(p, v3, x13);
                }
                p = TL.Splat(pj[2]);
                x20 = TL.Fma(p, v0, x20);
                if (TD.N > 1)
                {
                    x21 = TL.Fma(p, v1, x21);
                    x22 = TL.Fma(p, v2, x22);
                    x23 = TL.Fma(p, v3, x23);
                }
                p = TL.Splat(pj[3]);
                x30 = TL.Fma(p, v0, x30);
                if (TD.N > 1)
                {
                    x31 = TL.Fma(p, v1, x31);
                    x32 = TL.Fma(p, v2, x32);
                    x33 = TL.Fma(p, v3, x33);
                }
            }
        }
        TL.Store(o0, x00);
        if (TD.N > 1)
        {
            TL.Store(o0 + lanes, x01);
            TL.Store(o0 + 2 * lanes, x02);
            TL.Store(o0 + 3 * lanes, x03);
        }
        if (TQ.N > 1)
        {
            TL.Store(o1, x10);
            TL.Store(o2, x20);
            TL.Store(o3, x30);
            if (TD.N > 1)
            {
                TL.Store(o1 + lanes, x11);
                TL.Store(o1 + 2 * lanes, x12);
                TL.Store(o1 + 3 * lanes, x13);
                TL.Store(o2 + lanes, x21);
                TL.Store(o2 + 2 * lanes, x22);
                TL.Store(o2 + 3 * lanes, x23);
                TL.Store(o3 + lanes, x31);
                TL.Store(o3 + 2 * lanes, x32);
                TL.Store(o3 + 3 * lanes, x33);
            }
        }
    }

    // Head dimensions that are not a multiple of the lane count finish one float at a time.
    private static void ValueTail(int i0, int count, int d0, int mPad, int hd, float* v, int t, float* o, float* s, float* corr)
    {
        for (int i = i0; i < i0 + count; i++)
        {
            float* oi = o + (long)i * hd;
            for (int d = d0; d < hd; d++)
            {
                float acc = oi[d] * corr[i];
                for (int j = 0; j < t; j++) acc += s[j * mPad + i] * v[(long)j * hd + d];
                oi[d] = acc;
            }
        }
    }

    /// <summary>A loop count the JIT folds: the number of register blocks a kernel body unrolls.</summary>
    internal interface IChunkCount
    {
        static abstract int N { get; }
    }

    private readonly struct One : IChunkCount
    {
        public static int N => 1;
    }

    private readonly struct Two : IChunkCount
    {
        public static int N => 2;
    }

    private readonly struct Three : IChunkCount
    {
        public static int N => 3;
    }

    private readonly struct Four : IChunkCount
    {
        public static int N => 4;
    }
}
