namespace Retort.Engine.Templates;

/// <summary>
/// Jinja2's default Undefined: renders empty, is falsy and iterates as nothing, but any real use
/// (attribute access, arithmetic, calling) fails with the hint recorded where it was produced.
/// </summary>
internal sealed class Undefined(string hint)
{
    public string Hint { get; } = hint;

    public TemplateError Fail() => new(Hint);
}

/// <summary>The object namespace(...) returns: the one thing templates may assign attributes on.</summary>
internal sealed class Namespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>Anything a template can call: globals, macros, bound methods.</summary>
internal delegate object? TemplateFunction(List<object?> args, Dictionary<string, object?> kwargs);

internal sealed class Callable(string name, TemplateFunction function)
{
    public string Name { get; } = name;

    public TemplateFunction Function { get; } = function;
}

/// <summary>A Python dict: insertion-ordered, keys compared with Python equality.</summary>
internal sealed class PyDict : Dictionary<object, object?>
{
    public PyDict() : base(PyKeyComparer.Instance) { }
}

internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => PyOps.Eq(x, y);

    public int GetHashCode(object obj) => obj switch
    {
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => ((long)d).GetHashCode(),
        string s => StringComparer.Ordinal.GetHashCode(s),
        _ => obj.GetHashCode(),
    };
}

/// <summary>The loop variable inside a for block.</summary>
internal sealed class LoopInfo(List<object?> items, int depth)
{
    public List<object?> Items { get; } = items;

    public int Index0 { get; set; }

    public int Depth { get; } = depth;
}
