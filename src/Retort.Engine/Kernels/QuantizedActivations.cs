using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Retort.Engine.Kernels;

/// <summary>Which 8-bit block format a <see cref="QuantizedActivations"/> currently holds.</summary>
internal enum ActivationFormat
{
    None,

    /// <summary>Blocks of 32 with a float scale and a float d*Σq (for Q8_0 and Q4_0 weights).</summary>
    Q8,

    /// <summary>Blocks of 256 with a float scale and 16 per-16 sums of q (for K-quant weights).</summary>
    Q8K,
}

/// <summary>
/// Reusable buffers holding a batch of activation rows quantized to 8-bit blocks. Buffers grow
/// on demand and are then reused, so steady-state inference does not allocate. Memory comes from
/// the pinned object heap, so raw pointers stay valid without fixed blocks or finalizers.
/// </summary>
internal sealed unsafe class QuantizedActivations
{
    private sbyte[] _q = [];
    private float[] _d = [];
    private float[] _s = [];
    private short[] _bsums = [];
    private short[] _sums32 = [];
    private int[] _sum4 = [];
    private int[] _blockSums = [];

    public ActivationFormat Format { get; private set; }

    public int Cols { get; private set; }

    public int Batch { get; private set; }

    /// <summary>Quantized values of token t (Cols bytes).</summary>
    public sbyte* Q(int t) => Ptr(_q) + (long)t * Cols;

    /// <summary>Block scales of token t.</summary>
    public float* D(int t) => Ptr(_d) + (long)t * BlocksPerRow;

    /// <summary>Q8 only: d*Σq per block of token t.</summary>
    public float* S(int t) => Ptr(_s) + (long)t * BlocksPerRow;

    /// <summary>Q8 only: sums of each 4 consecutive q of token t (Cols/4 ints).</summary>
    public int* Sum4(int t) => Ptr(_sum4) + (long)t * (Cols / 4);

    /// <summary>Q8 only: Σq of each block of 32 of token t.</summary>
    public int* BlockSums(int t) => Ptr(_blockSums) + (long)t * BlocksPerRow;

    /// <summary>Q8K only: per-32 sums of q of token t (8 per block), for the interleaved Q4_K minimums.</summary>
    public short* Sums32(int t) => Ptr(_sums32) + (long)t * (Cols / 32);

    /// <summary>Q8K only: per-16 sums of q of token t (16 per block).</summary>
    public short* BSums(int t) => Ptr(_bsums) + (long)t * (Cols / 16);

    private int BlocksPerRow => Format == ActivationFormat.Q8K ? Cols / ActivationQuantizer.Q8KBlock : Cols / ActivationQuantizer.Q8Block;

    /// <summary>Quantizes batch rows of cols floats (row-major) to Q8 blocks of 32.</summary>
    public void QuantizeQ8(float* x, int cols, int batch)
    {
        Prepare(ActivationFormat.Q8, x, cols, batch);
        for (int t = 0; t < batch; t++) QuantizeRow(t);
    }

    /// <summary>Quantizes batch rows of cols floats (row-major) to Q8K blocks of 256.</summary>
    public void QuantizeQ8K(float* x, int cols, int batch)
    {
        Prepare(ActivationFormat.Q8K, x, cols, batch);
        for (int t = 0; t < batch; t++) QuantizeRow(t);
    }

    /// <summary>The rows last quantized (for reuse by a matmul over the same input), or null.</summary>
    public float* Source { get; private set; }

    /// <summary>Clears <see cref="Source"/>: the buffers no longer stand for any input.</summary>
    public void Forget() => Source = null;

    /// <summary>
    /// Sizes the buffers for batch rows of cols floats at x in the given format; the rows are then
    /// quantized by <see cref="QuantizeRow"/>, in any order and from any thread.
    /// </summary>
    public void Prepare(ActivationFormat format, float* x, int cols, int batch)
    {
        int block = format == ActivationFormat.Q8K ? ActivationQuantizer.Q8KBlock : ActivationQuantizer.Q8Block;
        if (cols % block != 0)
            throw new RetortException($"activation row of {cols} values is not a whole number of blocks of {block}");
        Prepare(format, cols, batch);
        Source = x;
    }

    /// <summary>Quantizes row t of the input given to <see cref="Prepare(ActivationFormat, float*, int, int)"/>.</summary>
    public void QuantizeRow(int t)
    {
        int cols = Cols;
        float* x = Source + (long)t * cols;
        if (Format == ActivationFormat.Q8K)
        {
            ActivationQuantizer.QuantizeQ8K(x, cols, Q(t), D(t), BSums(t));
            short* bs = BSums(t), s32 = Sums32(t);
            for (int i = 0; i < cols / 32; i++) s32[i] = (short)(bs[2 * i] + bs[2 * i + 1]);
            return;
        }
        ActivationQuantizer.QuantizeQ8(x, cols, Q(t), D(t), S(t));
        ActivationQuantizer.GroupSums4(Q(t), cols, Sum4(t));
        int* sum4 = Sum4(t), blockSums = BlockSums(t);
        for (int b = 0; b < cols / ActivationQuantizer.Q8Block; b++)
        {
            int* s = sum4 + 8 * b;
            blockSums[b] = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
        }
    }

    private void Prepare(ActivationFormat format, int cols, int batch)
    {
        Format = format;
        Cols = cols;
        Batch = batch;
        long values = (long)cols * batch;
        int blocks = checked((int)(values / ActivationQuantizer.Q8Block));
        Ensure(ref _q, checked((int)values) + 64);
        Ensure(ref _d, blocks + 16);
        Ensure(ref _s, blocks + 16);
        if (format == ActivationFormat.Q8)
        {
            Ensure(ref _sum4, checked((int)(values / 4)) + 16);
            Ensure(ref _blockSums, blocks + 16);
        }
        if (format == ActivationFormat.Q8K)
        {
            Ensure(ref _bsums, checked((int)(values / 16)) + 16);
            Ensure(ref _sums32, checked((int)(values / 32)) + 16);
        }
    }

    private static void Ensure<T>(ref T[] buffer, int length) where T : unmanaged
    {
        if (buffer.Length >= length) return;
        // Grow geometrically so a slowly growing prompt batch does not reallocate every call.
        buffer = GC.AllocateUninitializedArray<T>(Math.Max(length, buffer.Length * 2), pinned: true);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T* Ptr<T>(T[] array) where T : unmanaged =>
        (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
}
