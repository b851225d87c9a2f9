namespace Retort.Engine.Kernels;

/// <summary>The block types <see cref="InterleavedWeights"/> can hold, rows side by side.</summary>
internal enum InterleavedFormat
{
    /// <summary>
    /// 16 rows per group. Per block, 4 chunks of 64 bytes: chunk c holds bytes 4c..4c+3 of each
    /// row's nibbles; the group's 16 f16 scales per block follow all its nibbles.
    /// </summary>
    Q4_0,

    /// <summary>Per block: 8 f16 scales, then 8 chunks of 32 bytes; chunk c holds elements 4c..4c+3 of each row, stored as q+128.</summary>
    Q8_0,

    /// <summary>
    /// Per super-block of 256: 8 f16 d, 8 f16 dmin, the 8 sub-block scales of each row (sub-block
    /// major, one byte each), the mins as byte pairs (sub-blocks 2i and 2i+1 of each row side by
    /// side, for vpmaddwd), then 32 chunks of 32 bytes: chunk 8j+c holds bytes 32j+4c..+3 of each
    /// row's nibbles (low: sub-block 2j, high: sub-block 2j+1).
    /// </summary>
    Q4_K,
}
