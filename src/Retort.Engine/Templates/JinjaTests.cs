namespace Retort.Engine.Templates;

/// <summary>The Jinja2 built-in tests (`x is defined`, `x is divisibleby 3`, ...).</summary>
internal static class JinjaTests
{
    private static readonly HashSet<string> Known =
        ["defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "mapping", "iterable",
         "sequence", "callable", "true", "false", "eq", "equalto", "==", "ne", "!=", "in", "lt", "lessthan", "<",
         "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "odd", "even", "divisibleby", "sameas", "upper", "lower"];

    public static bool IsKnown(string name) => Known.Contains(name);

    public static bool Apply(string name, object? v, List<object?> a, Dictionary<string, object?> k)
    {
        object? Arg() => a.Count > 0 ? a[0] : k.Count > 0 ? k.Values.First() : throw new TemplateError($"test '{name}' needs an argument");
        switch (name)
        {
            case "defined": return v is not Undefined;
            case "undefined": return v is Undefined;
            case "none": return v is null;
            case "string": return v is string;
            case "number": return v is long or double or bool;
            case "integer": return v is long;
            case "float": return v is double;
            case "boolean": return v is bool;
            case "mapping": return v is PyDict;
            case "iterable": return v is string or List<object?> or object?[] or PyDict or Undefined;
            // Undefined has __len__ and __getitem__, so jinja2 calls it a sequence.
            case "sequence": return v is string or List<object?> or object?[] or PyDict or Undefined;
            case "callable": return v is Callable;
            case "true": return v is true;
            case "false": return v is false;
            case "eq" or "equalto" or "==": return PyOps.Eq(v, Arg());
            case "ne" or "!=": return !PyOps.Eq(v, Arg());
            case "in": return PyOps.Contains(Arg(), v);
            case "lt" or "lessthan" or "<": return PyOps.Compare(v, Arg(), "<") < 0;
            case "le" or "<=": return PyOps.Compare(v, Arg(), "<=") <= 0;
            case "gt" or "greaterthan" or ">": return PyOps.Compare(v, Arg(), ">") > 0;
            case "ge" or ">=": return PyOps.Compare(v, Arg(), ">=") >= 0;
            case "odd": return Mod(v, 2) == 1;
            case "even": return Mod(v, 2) == 0;
            case "divisibleby": return Mod(v, (long)PyOps.ToDouble(Arg())) == 0;
            case "sameas": return SameAs(v, Arg());
            case "upper": { string s = PyOps.Str(v); return s.Any(char.IsLetter) && s == s.ToUpperInvariant(); }
            case "lower": { string s = PyOps.Str(v); return s.Any(char.IsLetter) && s == s.ToLowerInvariant(); }
        }
        throw new TemplateError($"unsupported test '{name}'");
    }

    private static long Mod(object? v, long m)
    {
        if (v is Undefined u) throw u.Fail();
        var r = PyOps.Arith("%", v, m);
        return (long)PyOps.ToDouble(r);
    }

    // Python `is`: None/True/False are singletons; small ints and interned strings are not
    // something templates should rely on, so values compare by identity or, for those, by value.
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (null, _) or (_, null) or (bool, _) or (_, bool) => false,
        _ => ReferenceEquals(a, b),
    };
}
