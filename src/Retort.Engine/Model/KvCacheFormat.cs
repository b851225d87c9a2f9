using Retort.Engine.Tensors;

namespace Retort.Engine.Model;

/// <summary>
/// The facts of each <see cref="KvCacheType"/>: its name on the command line, the GGUF block type
/// its rows are (so they are read and written by the same block code as weights), and bytes per row.
/// </summary>
public static class KvCacheFormat
{
    /// <summary>
    /// What run, serve and bench store keys and values as unless told otherwise: q8_0, which at depth
    /// is the fastest type that stays close to the exact cache (half the memory traffic of f16, 1 %
    /// relative logit RMS on the fixtures against f32 where q4_0 gives 17 %: KvCacheTypeTests; the
    /// speeds are in docs/benchmarks.md). f16 where the head dimension is not a whole number of
    /// 32-element blocks. A <see cref="Transformer"/> made in code stays exact (f32) unless set.
    /// </summary>
    public static KvCacheType DefaultFor(ModelConfig config) => config.HeadDim % BlockSize(KvCacheType.Q8_0) == 0 ? KvCacheType.Q8_0 : KvCacheType.F16;

    /// <summary>The name of the default, for help texts that have no model yet.</summary>
    public const string DefaultDescription = "q8_0 (f16 where the head dimension is not a multiple of 32)";

    /// <summary>The names accepted by --cache-type, --cache-type-k and --cache-type-v.</summary>
    public static IReadOnlyList<string> Names { get; } = ["f32", "f16", "bf16", "q8_0", "q4_0"];

    public static string Name(KvCacheType type) => Names[(int)type];

    /// <summary>Parses a cache type name (case-insensitive); <paramref name="option"/> names the option in the error.</summary>
    /// <exception cref="RetortException">Not one of <see cref="Names"/>.</exception>
    public static KvCacheType Parse(string value, string option = "--cache-type")
    {
        int i = Names.ToList().FindIndex(n => string.Equals(n, value?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (i < 0) throw new RetortException($"{option} must be one of {string.Join(", ", Names)}, found '{value}'");
        return (KvCacheType)i;
    }

    internal static GgmlType BlockType(KvCacheType type) => type switch
    {
        KvCacheType.F32 => GgmlType.F32,
        KvCacheType.F16 => GgmlType.F16,
        KvCacheType.BF16 => GgmlType.BF16,
        KvCacheType.Q8_0 => GgmlType.Q8_0,
        KvCacheType.Q4_0 => GgmlType.Q4_0,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Elements per block: a head's row must be a whole number of them.</summary>
    public static int BlockSize(KvCacheType type) => GgmlTypeInfo.BlockSize(BlockType(type));

    /// <summary>Bytes of one row of <paramref name="elements"/> (one KV head of one position).</summary>
    public static int RowBytes(KvCacheType type, int elements) =>
        checked((int)((long)elements / BlockSize(type) * GgmlTypeInfo.BlockBytes(BlockType(type))));

    /// <summary>Bytes the keys and values of one position take over all layers and KV heads.</summary>
    public static long BytesPerToken(ModelConfig config, KvCacheType keyType, KvCacheType valueType) =>
        (long)config.LayerCount * config.KvHeadCount * (RowBytes(keyType, config.HeadDim) + RowBytes(valueType, config.HeadDim));

    /// <summary>Refuses a type whose blocks do not divide the model's head dimension.</summary>
    /// <exception cref="RetortException">The head dimension is not a multiple of the type's block size.</exception>
    public static void Check(ModelConfig config, KvCacheType type, string option = "--cache-type")
    {
        int bs = BlockSize(type);
        if (config.HeadDim % bs != 0)
            throw new RetortException($"{option} {Name(type)} needs a head dimension that is a multiple of {bs}; this model's is {config.HeadDim} (use f32, f16 or bf16)");
    }
}
