using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Retort.Engine.IO;
using Retort.Engine.Tensors;

namespace Retort.Engine.Kernels;

/// <summary>
/// A Q4_0 or Q8_0 weight matrix repacked at load so that 8 consecutive rows are interleaved block
/// by block (see <see cref="InterleavedFormat"/>), for <see cref="DotInterleaved"/>. The same bytes
/// as the file's blocks, reordered: 8 rows of one block form one record of 8× the block size, and
/// the records of a group of 8 rows follow each other, so a group is one contiguous stream.
/// Owns native memory; the model disposes it.
/// </summary>
internal sealed unsafe class InterleavedWeights : IDisposable
{
    public const int Q4_0RecordBytes = 8 * 18;

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
        GroupBytes = (long)Blocks * RecordBytes(format);
        ByteLength = GroupBytes * (rows / 8);
        bool large = ByteLength >= PageAdvice.HugePageBytes;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)ByteLength, large ? (nuint)PageAdvice.HugePageBytes : 64);
        if (large) PageAdvice.PreferHugePages(_data, ByteLength);
    }

    public InterleavedFormat Format { get; }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>Blocks (of 32, or super-blocks of 256 for Q4_K) per row.</summary>
    public int Blocks { get; }

    public long GroupBytes { get; }

    public long ByteLength { get; }

    /// <summary>The records of rows 8g..8g+7.</summary>
    public byte* Group(int g) => _data + g * GroupBytes;

    public static int RecordBytes(InterleavedFormat format) => format switch
    {
        InterleavedFormat.Q4_0 => Q4_0RecordBytes,
        InterleavedFormat.Q8_0 => Q8_0RecordBytes,
        _ => Q4_KRecordBytes,
    };

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

    /// <summary>True when a rows×cols matrix of this type can be interleaved (whole groups of 8 rows).</summary>
    public static bool CanPack(GgmlType type, long rows, long cols) =>
        FormatOf(type) is { } format && rows > 0 && rows % 8 == 0 && cols % ElementsPerBlock(format) == 0
        && rows <= int.MaxValue && cols <= int.MaxValue;

    /// <summary>
    /// Repacks rows×cols weights of a Q4_0 or Q8_0 tensor (rowBytes apart). Groups are independent,
    /// so a pool packs them in parallel.
    /// </summary>
    public static InterleavedWeights Pack(GgmlType type, byte* source, long rowBytes, int rows, int cols, WorkerPool? pool = null)
    {
        if (!CanPack(type, rows, cols))
            throw new RetortException($"cannot interleave a {type} matrix of {rows}×{cols}: expected Q4_0, Q8_0 or Q4_K, rows a multiple of 8, whole blocks");
        var packed = new InterleavedWeights(FormatOf(type)!.Value, rows, cols);
        var job = new PackJob(packed, source, rowBytes);
        if (pool != null) pool.Run(job, rows / 8, 16);
        else job.Execute(0, rows / 8);
        return packed;
    }

    /// <summary>
    /// The quantized weight of row r, element k of a record: nibble−8 for Q4_0, q for Q8_0, the
    /// unsigned nibble for Q4_K (its scale and min apply per sub-block of 32).
    /// </summary>
    public static int Weight(InterleavedFormat format, byte* record, int r, int k)
    {
        if (format == InterleavedFormat.Q4_K)
        {
            int s = k >> 5, e = k & 31;
            byte v = record[Q4_KQuantOffset + 32 * (8 * (s >> 1) + (e >> 2)) + 4 * r + (e & 3)];
            return (s & 1) == 0 ? v & 0xF : v >> 4;
        }
        byte* q = record + 16;
        if (format == InterleavedFormat.Q4_0)
        {
            int kk = k & 15;
            byte b = q[32 * (kk >> 2) + 4 * r + (kk & 3)];
            return (k < 16 ? b & 0xF : b >> 4) - 8;
        }
        return (sbyte)(q[32 * (k >> 2) + 4 * r + (k & 3)] ^ 0x80);
    }

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
        int r = row & 7;
        byte* group = Group(row >> 3);
        for (int b = 0; b < Blocks; b++)
        {
            byte* rec = group + (long)b * RecordBytes(Format);
            Span<byte> blk = destination.Slice(b * blockBytes, blockBytes);
            blk[0] = rec[2 * r];
            blk[1] = rec[2 * r + 1];
            for (int c = 0; c < blockBytes - 2; c++)
            {
                int chunk = c >> 2, i = c & 3;
                byte v = rec[16 + 32 * chunk + 4 * r + i];
                blk[2 + c] = Format == InterleavedFormat.Q4_0 ? v : (byte)(v ^ 0x80);
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
            int blockBytes = FileBlockBytes(target.Format);
            int quantBytes = blockBytes - 2;
            byte flip = target.Format == InterleavedFormat.Q4_0 ? (byte)0 : (byte)0x80;
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
                            uint four = *(uint*)(blk + 2 + c);
                            if (flip != 0) four ^= 0x80808080u;
                            *(uint*)(dst + 16 + 8 * c + 4 * r) = four;
                        }
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
