namespace Retort.Engine.Templates;

/// <summary>
/// What a chat template may cost to parse and render. Templates arrive inside model files and
/// Hub folders, so they are remote input. Each limit sits far above what real templates do (the
/// largest Hugging Face templates are tens of kilobytes, nest fewer than 20 levels and render one
/// pass over the messages and tools) and far below what would hurt the process: overflow the
/// machine stack, hold gigabytes, or spin for minutes.
/// </summary>
internal static class TemplateLimits
{
    /// <summary>Characters of template source.</summary>
    public const int MaxSourceLength = 1 << 20;

    /// <summary>Nesting of expressions and blocks in the source (a chain a ~ b ~ c counts each link).</summary>
    public const int MaxNesting = 256;

    /// <summary>Nesting while rendering: expressions, blocks and macro bodies together.</summary>
    public const int MaxRenderDepth = 2048;

    /// <summary>Macros calling macros (recursive renderers of JSON schemas go a few levels deep).</summary>
    public const int MaxMacroDepth = 100;

    /// <summary>Lists and dicts inside each other, for repr, tojson and comparisons.</summary>
    public const int MaxValueDepth = 256;

    /// <summary>Characters of any one string a template makes, its output included.</summary>
    public const int MaxStringLength = 16 << 20;

    /// <summary>Items of any one list, tuple or dict a template makes.</summary>
    public const int MaxItems = 1 << 20;

    /// <summary>A field width or precision in '%' formatting, or an indent width.</summary>
    public const int MaxFormatWidth = 100_000;

    /// <summary>
    /// Work units per render: one per statement, expression and loop iteration, one per item a
    /// list operation touches and one per eight characters a string operation touches.
    /// </summary>
    public const long MaxWork = 50_000_000;

    /// <summary>Bytes allocated by one render, a backstop for anything the other limits miss.</summary>
    public const long MaxAllocatedBytes = 1L << 30;

    /// <summary>Wall-clock time of one render, the last backstop.</summary>
    public const int MaxRenderMilliseconds = 10_000;
}
