using System.Runtime.InteropServices;

namespace Retort.Engine.IO;

/// <summary>
/// Hints to the kernel about large weight buffers, through madvise (.NET has no API for either;
/// on systems other than Linux both calls do nothing):
/// <see cref="Release"/> gives back the resident pages of a read-only file mapping once its bytes
/// have been copied elsewhere (weights repacked at load), so the process is not charged twice;
/// the pages stay in the OS file cache and fault back in if read again.
/// <see cref="PreferHugePages"/> asks for 2 MiB pages for a fresh buffer: filling a gigabyte of
/// 4 KiB pages costs a quarter of a million page faults (measured here: seconds on this VM).
/// </summary>
internal static unsafe partial class PageAdvice
{
    /// <summary>Alignment that lets a buffer be backed by whole huge pages.</summary>
    public const int HugePageBytes = 2 * 1024 * 1024;

    private const int MadvDontNeed = 4;
    private const int MadvHugePage = 14;

    public static void Release(byte* start, long length) => Advise(start, length, MadvDontNeed);

    public static void PreferHugePages(byte* start, long length) => Advise(start, length, MadvHugePage);

    private static void Advise(byte* start, long length, int advice)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        long page = Environment.SystemPageSize;
        // Only whole pages inside the range: the neighbours' bytes may still be in use.
        long first = ((long)start + page - 1) / page * page;
        long end = ((long)start + length) / page * page;
        if (end <= first) return;
        // Advice only: a kernel that declines (no THP, old kernel) changes speed, not results.
        _ = Madvise((void*)first, (nuint)(end - first), advice);
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
