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

    private byte* _data;

    private InterleavedWeights(InterleavedFormat format, int rows, int cols)
    {
        Format = format;
        Rows = rows;
        Cols = cols;
        Blocks = cols / 32;
        GroupBytes = (long)Blocks * RecordBytes(format);
        ByteLength = GroupBytes * (rows / 8);
        bool large = ByteLength >= PageAdvice.HugePageBytes;
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)ByteLength, large ? (nuint)PageAdvice.HugePageBytes : 64);
        if (large) PageAdvice.PreferHugePages(_data, ByteLength);
    }

    public InterleavedFormat Format { get; }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>Blocks of 32 per row.</summary>
    public int Blocks { get; }

    public long GroupBytes { get; }

    public long ByteLength { get; }

    /// <summary>The records of rows 8g..8g+7.</summary>
    public byte* Group(int g) => _data + g * GroupBytes;

    public static int RecordBytes(InterleavedFormat format) => format == InterleavedFormat.Q4_0 ? Q4_0RecordBytes : Q8_0RecordBytes;

    /// <summary>The interleaved format for a GGUF type, or null when it has none.</summary>
    public static InterleavedFormat? FormatOf(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => InterleavedFormat.Q4_0,
        GgmlType.Q8_0 => InterleavedFormat.Q8_0,
        _ => null,
    };

    /// <summary>True when a rows×cols matrix of this type can be interleaved (whole groups of 8 rows).</summary>
    public static bool CanPack(GgmlType type, long rows, long cols) =>
        FormatOf(type) != null && rows > 0 && rows % 8 == 0 && cols % 32 == 0 && rows <= int.MaxValue && cols <= int.MaxValue;

    /// <summary>
    /// Repacks rows×cols weights of a Q4_0 or Q8_0 tensor (rowBytes apart). Groups are independent,
    /// so a pool packs them in parallel.
    /// </summary>
    public static InterleavedWeights Pack(GgmlType type, byte* source, long rowBytes, int rows, int cols, WorkerPool? pool = null)
    {
        if (!CanPack(type, rows, cols))
            throw new RetortException($"cannot interleave a {type} matrix of {rows}×{cols}: expected Q4_0 or Q8_0, rows a multiple of 8, columns of 32");
        var packed = new InterleavedWeights(FormatOf(type)!.Value, rows, cols);
        var job = new PackJob(packed, source, rowBytes);
        if (pool != null) pool.Run(job, rows / 8, 16);
        else job.Execute(0, rows / 8);
        return packed;
    }

    /// <summary>The signed quantized weight (nibble−8 for Q4_0, q for Q8_0) of row r, element k of a record.</summary>
    public static int Weight(InterleavedFormat format, byte* record, int r, int k)
    {
        byte* q = record + 16;
        if (format == InterleavedFormat.Q4_0)
        {
            int kk = k & 15;
            byte b = q[32 * (kk >> 2) + 4 * r + (kk & 3)];
            return (k < 16 ? b & 0xF : b >> 4) - 8;
        }
        return (sbyte)(q[32 * (k >> 2) + 4 * r + (k & 3)] ^ 0x80);
    }

    /// <summary>Writes row r back in the file's block layout (for tests: packing must be lossless).</summary>
    public void UnpackRow(int row, Span<byte> destination)
    {
        int blockBytes = Format == InterleavedFormat.Q4_0 ? 18 : 34;
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
            int blockBytes = target.Format == InterleavedFormat.Q4_0 ? 18 : 34;
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
    }
}
