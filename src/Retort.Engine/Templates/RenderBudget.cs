using System.Globalization;
using System.Runtime.CompilerServices;

namespace Retort.Engine.Templates;

/// <summary>
/// The running cost of one render, checked against <see cref="TemplateLimits"/>. The Python
/// emulation (PyOps, Access, the filters) is static, so the render in progress on this thread is
/// found through a thread-static: rendering never awaits, so a render stays on its thread.
/// Outside a render only the size checks apply.
/// </summary>
internal sealed class RenderBudget
{
    [ThreadStatic] private static RenderBudget? t_current;

    // Clock and allocation counter are read every this many work units: cheap, and fine-grained
    // enough that no check is more than a few milliseconds of work apart.
    private const long CheckInterval = 1 << 14;

    private readonly RenderBudget? _previous;
    private readonly long _startBytes;
    private readonly long _startTicks;
    private long _work;
    private long _nextCheck = CheckInterval;

    private RenderBudget(RenderBudget? previous)
    {
        _previous = previous;
        _startBytes = GC.GetAllocatedBytesForCurrentThread();
        _startTicks = Environment.TickCount64;
    }

    /// <summary>Starts accounting for a render on this thread; dispose the scope when it ends.</summary>
    public static Scope Begin()
    {
        var budget = new RenderBudget(t_current);
        t_current = budget;
        return new Scope(budget);
    }

    public readonly struct Scope(RenderBudget budget) : IDisposable
    {
        public void Dispose() => t_current = budget._previous;
    }

    /// <summary>Counts <paramref name="units"/> of work against the render in progress.</summary>
    public static void Charge(long units)
    {
        var b = t_current;
        if (b == null) return;
        b._work += units;
        if (b._work >= b._nextCheck) b.Check();
    }

    /// <summary>Counts a string operation over <paramref name="chars"/> characters.</summary>
    public static void ChargeChars(long chars) => Charge(1 + (chars >> 3));

    private void Check()
    {
        _nextCheck = _work + CheckInterval;
        if (_work > TemplateLimits.MaxWork)
            throw new TemplateError($"rendering took more than {N(TemplateLimits.MaxWork)} steps (the limit per render): the template loops or computes far more than a chat template does");
        long bytes = GC.GetAllocatedBytesForCurrentThread() - _startBytes;
        if (bytes > TemplateLimits.MaxAllocatedBytes)
            throw new TemplateError($"rendering allocated more than {TemplateLimits.MaxAllocatedBytes >> 20} MiB (the limit per render)");
        if (Environment.TickCount64 - _startTicks > TemplateLimits.MaxRenderMilliseconds)
            throw new TemplateError($"rendering took longer than {TemplateLimits.MaxRenderMilliseconds / 1000} s (the limit per render)");
    }

    /// <summary>Refuses a string of <paramref name="length"/> characters before it is made, and charges for it.</summary>
    public static void CheckString(long length, string what)
    {
        CheckLength(length, what);
        ChargeChars(length);
    }

    /// <summary>Refuses a string growing past the limit; for builders that charge each piece as they append it.</summary>
    public static void CheckLength(long length, string what)
    {
        if (length > TemplateLimits.MaxStringLength)
            throw new TemplateError($"{what} would be {N(length)} characters long, over the limit of {N(TemplateLimits.MaxStringLength)}");
    }

    /// <summary>Refuses a list of <paramref name="count"/> items before it is made, and charges for it.</summary>
    public static void CheckItems(long count, string what)
    {
        if (count > TemplateLimits.MaxItems)
            throw new TemplateError($"{what} would have {N(count)} items, over the limit of {N(TemplateLimits.MaxItems)}");
        Charge(count);
    }

    /// <summary>Refuses a field or indent width beyond <see cref="TemplateLimits.MaxFormatWidth"/>.</summary>
    public static int CheckWidth(long width, string what)
    {
        if (width > TemplateLimits.MaxFormatWidth)
            throw new TemplateError($"{what} {N(width)} is over the limit of {N(TemplateLimits.MaxFormatWidth)}");
        return (int)Math.Max(0, width);
    }

    /// <summary>Refuses values nested deeper than <see cref="TemplateLimits.MaxValueDepth"/> (or cyclic through a namespace).</summary>
    public static void CheckValueDepth(int depth)
    {
        if (depth > TemplateLimits.MaxValueDepth)
            throw new TemplateError($"a value nests lists, dicts or namespaces more than {TemplateLimits.MaxValueDepth} levels deep (the limit), or contains itself");
    }

    /// <summary>
    /// Fails cleanly before the machine stack runs out; the depth limits should always trip
    /// first, this covers a caller that starts the render already deep in its stack.
    /// </summary>
    public static void EnsureStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new TemplateError("the template nests too deeply for the thread's stack");
    }

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
