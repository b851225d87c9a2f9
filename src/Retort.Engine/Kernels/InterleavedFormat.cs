namespace Retort.Engine.Kernels;

/// <summary>The block types <see cref="InterleavedWeights"/> can hold, 8 rows side by side.</summary>
internal enum InterleavedFormat
{
    /// <summary>Per block: 8 f16 scales, then 4 chunks of 32 bytes; chunk c holds bytes 4c..4c+3 of each row's nibbles.</summary>
    Q4_0,

    /// <summary>Per block: 8 f16 scales, then 8 chunks of 32 bytes; chunk c holds elements 4c..4c+3 of each row, stored as q+128.</summary>
    Q8_0,
}
