using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Retort.Engine.Kernels;

/// <summary>Instruction-set level a kernel runs at; every dot product has one implementation per level.</summary>
internal enum KernelPath
{
    /// <summary>Plain C#: the reference the vector paths are tested against.</summary>
    Scalar,

    /// <summary>Cross-platform Vector128 (SSE on x64, AdvSimd on ARM64).</summary>
    Vector128,

    /// <summary>AVX2 + FMA: byte products through vpmaddubsw / vpmaddwd.</summary>
    Avx2,

    /// <summary>AVX-VNNI: vpdpbusd / vpdpwssd fuse the multiply and the widening add.</summary>
    AvxVnni,
}

/// <summary>The fastest path this CPU supports, decided once when the type is first touched.</summary>
internal static class KernelPaths
{
    // A static readonly field is a JIT-time constant in tiered code, so the dispatch switches fold away.
    public static readonly KernelPath Best = Detect();

    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Vector128 => System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated,
        KernelPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        KernelPath.AvxVnni => Avx2.IsSupported && Fma.IsSupported && AvxVnni.IsSupported,
        _ => false,
    };

    private static KernelPath Detect()
    {
        string? forced = Environment.GetEnvironmentVariable("RETORT_KERNEL_PATH");
        if (!string.IsNullOrEmpty(forced) && Enum.TryParse(forced, ignoreCase: true, out KernelPath p) && IsSupported(p))
            return p;
        if (IsSupported(KernelPath.AvxVnni)) return KernelPath.AvxVnni;
        if (IsSupported(KernelPath.Avx2)) return KernelPath.Avx2;
        if (IsSupported(KernelPath.Vector128)) return KernelPath.Vector128;
        return KernelPath.Scalar;
    }
}
