using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Retort.Engine.IO;
using Retort.Engine.Tensors;

namespace Retort.Engine.Kernels;

/// <summary>
/// A Q4_0, Q8_0 or Q4_K weight matrix repacked at load so that consecutive rows are interleaved
/// block by block (see <see cref="InterleavedFormat"/>), for <see cref="DotInterleaved"/>: Q8_0 and
/// Q4_K in groups of 8 rows (one 256-bit int lane per row), Q4_0 in groups of 16 (one 512-bit
/// lane per row; 256-bit machines take each group as two halves of 8). The same bytes as the
/// file's blocks, reordered; each group is one contiguous run. Owns native memory; the model
/// disposes it.
/// </summary>
internal sealed unsafe class InterleavedWeights : IDisposable
{
    /// <summary>Q4_0 rows per group: one 512-bit vector holds 4 nibble bytes of each of 16 rows.</summary>
    public const int Q4_0GroupRows = 16;

    /// <summary>Q4_0 nibble bytes of one block of a group: 4 chunks of 64 (4 bytes × 16 rows).</summary>
    public const int Q4_0NibbleBytes = Q4_0GroupRows * 16;

    /// <summary>Q4_0 f16 scales of one block of a group.</summary>
    public const int Q4_0ScaleBytes = Q4_0GroupRows * 2;

    public const int Q8_0RecordBytes = 8 * 34;

    /// <summary>d, dmin, unpacked scales and mins, nibbles: 32 bytes more than 8 file blocks.</summary>
    public const int Q4_KRecordBytes = 16 + 16 + 64 + 64 + 8 * 128;

    private byte* _data;

    private InterleavedWeights(InterleavedFormat format, int rows, int cols)
    {
        Format = format;
        Rows = rows;
        Cols = cols;
        Blocks = cols / ElementsPerBlock(format);
        GroupRows = RowsPerGroup(format);
        // Q4_0 groups hold all nibbles, then all scales: rounded up to 64 bytes so every group,
        // and so every 64-byte nibble chunk, starts on a cache line.
        GroupBytes = format == InterleavedFormat.Q4_0
            ? ((long)Blocks * (Q4_0NibbleBytes + Q4_0ScaleBytes) + 63) & ~63L
            : (long)Blocks * RecordBytes(format);
        ByteLength = GroupBytes * (rows / GroupRows);
        bool large = ByteLength >= PageAdvice.HugePageBytes;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)ByteLength, large ? (nuint)PageAdvice.HugePageBytes : 64);
        if (large) PageAdvice.PreferHugePages(_data, ByteLength);
    }

    public InterleavedFormat Format { get; }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>Blocks (of 32, or super-blocks of 256 for Q4_K) per row.</summary>
    public int Blocks { get; }

    /// <summary>Rows side by side in a group: 16 for Q4_0, 8 for the others.</summary>
    public int GroupRows { get; }

    public long GroupBytes { get; }

    public long ByteLength { get; }

    /// <summary>The data of rows GroupRows·g .. GroupRows·(g+1)−1.</summary>
    public byte* Group(int g) => _data + g * GroupBytes;

    public static int RowsPerGroup(InterleavedFormat format) => format == InterleavedFormat.Q4_0 ? Q4_0GroupRows : 8;

    /// <summary>Bytes per block of a group for Q8_0 and Q4_K (Q4_0 keeps nibbles and scales apart).</summary>
    public static int RecordBytes(InterleavedFormat format) => format switch
    {
        InterleavedFormat.Q8_0 => Q8_0RecordBytes,
        InterleavedFormat.Q4_K => Q4_KRecordBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(format), "Q4_0 groups have no records: nibbles and scales are apart"),
    };

    /// <summary>Q4_0: the 4 nibble chunks of block b of a group.</summary>
    public static byte* Q4_0Nibbles(byte* group, int b) => group + (long)b * Q4_0NibbleBytes;

    /// <summary>Q4_0: the 16 f16 scales of block b of a group of blocks blocks.</summary>
    public static byte* Q4_0Scales(byte* group, int blocks, int b) => group + (long)blocks * Q4_0NibbleBytes + b * Q4_0ScaleBytes;

    public static int ElementsPerBlock(InterleavedFormat format) => format == InterleavedFormat.Q4_K ? 256 : 32;

    private static int FileBlockBytes(InterleavedFormat format) => format switch
    {
        InterleavedFormat.Q4_0 => 18,
        InterleavedFormat.Q8_0 => 34,
        _ => 144,
    };

    /// <summary>The interleaved format for a GGUF type, or null when it has none.</summary>
    public static InterleavedFormat? FormatOf(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => InterleavedFormat.Q4_0,
        GgmlType.Q8_0 => InterleavedFormat.Q8_0,
        GgmlType.Q4_K => InterleavedFormat.Q4_K,
        _ => null,
    };

    /// <summary>True when a rows×cols matrix of this type can be interleaved (whole groups of rows, whole blocks).</summary>
    public static bool CanPack(GgmlType type, long rows, long cols) =>
        FormatOf(type) is { } format && rows > 0 && rows % RowsPerGroup(format) == 0 && cols % ElementsPerBlock(format) == 0
        && rows <= int.MaxValue && cols <= int.MaxValue;

    /// <summary>
    /// Repacks rows×cols weights of a Q4_0 or Q8_0 tensor (rowBytes apart). Groups are independent,
    /// so a pool packs them in parallel.
    /// </summary>
    public static InterleavedWeights Pack(GgmlType type, byte* source, long rowBytes, int rows, int cols, WorkerPool? pool = null)
    {
        if (!CanPack(type, rows, cols))
            throw new RetortException($"cannot interleave a {type} matrix of {rows}×{cols}: expected Q4_0 (rows a multiple of 16), Q8_0 or Q4_K (rows a multiple of 8), whole blocks");
        var packed = new InterleavedWeights(FormatOf(type)!.Value, rows, cols);
        var job = new PackJob(packed, source, rowBytes);
        int groups = rows / packed.GroupRows;
        if (pool != null) pool.Run(job, groups, 16);
        else job.Execute(0, groups);
        return packed;
    }

    /// <summary>
    /// The quantized weight of row r (within its group), element k of block b: nibble−8 for Q4_0,
    /// q for Q8_0, the unsigned nibble for Q4_K (its scale and min apply per sub-block of 32).
    /// </summary>
    public static int Weight(InterleavedFormat format, byte* group, int blocks, int b, int r, int k)
    {
        if (format == InterleavedFormat.Q4_0)
        {
            int kk = k & 15;
            byte v = Q4_0Nibbles(group, b)[64 * (kk >> 2) + 4 * r + (kk & 3)];
            return (k < 16 ? v & 0xF : v >> 4) - 8;
        }
        byte* record = group + (long)b * RecordBytes(format);
        if (format == InterleavedFormat.Q4_K)
        {
            int s = k >> 5, e = k & 31;
            byte v = record[Q4_KQuantOffset + 32 * (8 * (s >> 1) + (e >> 2)) + 4 * r + (e & 3)];
            return (s & 1) == 0 ? v & 0xF : v >> 4;
        }
        return (sbyte)(record[16 + 32 * (k >> 2) + 4 * r + (k & 3)] ^ 0x80);
    }

    /// <summary>The f16 scale (d for Q4_K) of row r (within its group) in block b.</summary>
    public static ushort ScaleBits(InterleavedFormat format, byte* group, int blocks, int b, int r) => format == InterleavedFormat.Q4_0
        ? ((ushort*)Q4_0Scales(group, blocks, b))[r]
        : ((ushort*)(group + (long)b * RecordBytes(format)))[r];

    /// <summary>Q4_K: byte offset of the nibble chunks in a record.</summary>
    public const int Q4_KQuantOffset = 160;

    /// <summary>Q4_K: the 6-bit scale of sub-block s of row r.</summary>
    public static int Q4_KScale(byte* record, int r, int s) => record[32 + 8 * s + r];

    /// <summary>Q4_K: the 6-bit min of sub-block s of row r.</summary>
    public static int Q4_KMin(byte* record, int r, int s) => record[96 + 16 * (s >> 1) + 2 * r + (s & 1)];

    /// <summary>Writes row r back in the file's block layout (for tests: packing must be lossless).</summary>
    public void UnpackRow(int row, Span<byte> destination)
    {
        if (Format == InterleavedFormat.Q4_K) throw new NotSupportedException("Q4_K records keep unpacked scales; compare weights instead");
        int blockBytes = FileBlockBytes(Format);
        int r = row % GroupRows;
        byte* group = Group(row / GroupRows);
        for (int b = 0; b < Blocks; b++)
        {
            Span<byte> blk = destination.Slice(b * blockBytes, blockBytes);
            BitConverter.TryWriteBytes(blk, ScaleBits(Format, group, Blocks, b, r));
            for (int c = 0; c < blockBytes - 2; c++)
            {
                int chunk = c >> 2, i = c & 3;
                blk[2 + c] = Format == InterleavedFormat.Q4_0
                    ? Q4_0Nibbles(group, b)[64 * chunk + 4 * r + i]
                    : (byte)(group[(long)b * Q8_0RecordBytes + 16 + 32 * chunk + 4 * r + i] ^ 0x80);
            }
        }
    }

    public void Dispose()
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }

    private sealed class PackJob(InterleavedWeights target, byte* source, long rowBytes) : IRangeJob
    {
        // Runs once per tensor at load: without full optimization from the start it would run as
        // tier-0 code for most of the model.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int begin, int end)
        {
            if (target.Format == InterleavedFormat.Q4_K)
            {
                ExecuteQ4_K(begin, end);
                return;
            }
            if (target.Format == InterleavedFormat.Q4_0)
            {
                ExecuteQ4_0(begin, end);
                return;
            }
            int blockBytes = FileBlockBytes(target.Format);
            int quantBytes = blockBytes - 2;
            int record = RecordBytes(target.Format);
            for (int g = begin; g < end; g++)
            {
                byte* dst = target.Group(g);
                for (int b = 0; b < target.Blocks; b++, dst += record)
                {
                    for (int r = 0; r < 8; r++)
                    {
                        byte* blk = source + (8L * g + r) * rowBytes + (long)b * blockBytes;
                        *(ushort*)(dst + 2 * r) = *(ushort*)blk;
                        // Chunk c takes 4 bytes of every row: row r's bytes 4c..4c+3 go to lane r.
                        for (int c = 0; c < quantBytes; c += 4)
                        {
                            *(uint*)(dst + 16 + 8 * c + 4 * r) = *(uint*)(blk + 2 + c) ^ 0x80808080u;
                        }
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ExecuteQ4_0(int begin, int end)
        {
            int blocks = target.Blocks;
            for (int g = begin; g < end; g++)
            {
                byte* group = target.Group(g);
                for (int b = 0; b < blocks; b++)
                {
                    byte* nibbles = Q4_0Nibbles(group, b);
                    ushort* scales = (ushort*)Q4_0Scales(group, blocks, b);
                    for (int r = 0; r < Q4_0GroupRows; r++)
                    {
                        byte* blk = source + ((long)Q4_0GroupRows * g + r) * rowBytes + (long)b * FileBlockBytes(InterleavedFormat.Q4_0);
                        scales[r] = *(ushort*)blk;
                        // Chunk c (64 bytes) takes 4 bytes of every row: row r's bytes 4c..4c+3 go to lane r.
                        for (int c = 0; c < 4; c++) *(uint*)(nibbles + 64 * c + 4 * r) = *(uint*)(blk + 2 + 4 * c);
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ExecuteQ4_K(int begin, int end)
        {
            byte* sc = stackalloc byte[8];
            byte* m = stackalloc byte[8];
            for (int g = begin; g < end; g++)
            {
                byte* dst = target.Group(g);
                for (int b = 0; b < target.Blocks; b++, dst += Q4_KRecordBytes)
                {
                    for (int r = 0; r < 8; r++)
                    {
                        byte* blk = source + (8L * g + r) * rowBytes + (long)b * FileBlockBytes(InterleavedFormat.Q4_K);
                        *(ushort*)(dst + 2 * r) = *(ushort*)blk;
                        *(ushort*)(dst + 16 + 2 * r) = *(ushort*)(blk + 2);
                        DotQ4_K.UnpackScales(blk + 4, sc, m);
                        for (int s = 0; s < 8; s++)
                        {
                            dst[32 + 8 * s + r] = sc[s];
                            dst[96 + 16 * (s >> 1) + 2 * r + (s & 1)] = m[s];
                        }
                        for (int c = 0; c < 128; c += 4)
                            *(uint*)(dst + Q4_KQuantOffset + 8 * c + 4 * r) = *(uint*)(blk + 16 + c);
                    }
                }
            }
        }
    }
}
