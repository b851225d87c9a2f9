using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Retort.Engine.Templates;

/// <summary>The Jinja2 built-in filters chat templates use, with Hugging Face's tojson.</summary>
internal static partial class JinjaFilters
{
    private static readonly HashSet<string> Known =
        ["trim", "length", "count", "tojson", "upper", "lower", "title", "capitalize", "replace", "join", "first",
         "last", "default", "d", "items", "string", "int", "float", "list", "abs", "round", "reverse", "sort",
         "unique", "selectattr", "rejectattr", "map", "select", "reject", "safe", "e", "escape", "indent",
         "wordcount", "dictsort", "max", "min", "sum", "attr", "bool"];

    public static bool IsKnown(string name) => Known.Contains(name);

    public static object? Apply(string name, object? v, List<object?> a, Dictionary<string, object?> k)
    {
        switch (name)
        {
            case "trim":
            {
                var p = Access.Bind(name, a, k, ["chars"], [null]);
                string s = PyOps.Str(v);
                return p[0] is string chars ? s.Trim(chars.ToCharArray()) : s.Trim();
            }
            case "length":
            case "count":
                Access.Bind(name, a, k, [], []);
                return PyOps.Len(v);
            case "tojson":
            {
                var p = Access.Bind(name, a, k, ["ensure_ascii", "indent", "separators", "sort_keys"], [false, null, null, false]);
                string? indent = p[1] switch
                {
                    null => null,
                    long n => new string(' ', RenderBudget.CheckWidth(n, "tojson indent")),
                    string s => s,
                    _ => throw new TemplateError("tojson indent must be an int or a string"),
                };
                string? itemSep = null, keySep = null;
                if (p[2] is not null)
                {
                    var seps = PyOps.Iterate(p[2]);
                    if (seps.Count != 2) throw new TemplateError("tojson separators must be a pair of strings");
                    itemSep = PyOps.Str(seps[0]);
                    keySep = PyOps.Str(seps[1]);
                }
                return PyJson.Dumps(v, indent, itemSep, keySep, PyOps.Truthy(p[3]), PyOps.Truthy(p[0]));
            }
            case "upper": return Charged(PyOps.Str(v)).ToUpperInvariant();
            case "lower": return Charged(PyOps.Str(v)).ToLowerInvariant();
            case "title": return JinjaTitle(Charged(PyOps.Str(v)));
            case "capitalize":
            {
                string s = PyOps.Str(v);
                return s.Length == 0 ? s : s[..1].ToUpperInvariant() + s[1..].ToLowerInvariant();
            }
            case "replace":
            {
                var p = Access.Bind(name, a, k, ["old", "new", "count"], [null, null, null]);
                long count = p[2] is null ? -1 : (long)PyOps.ToDouble(p[2]);
                return Access.Replace(PyOps.Str(v), PyOps.Str(p[0]), PyOps.Str(p[1]), count);
            }
            case "join":
            {
                var p = Access.Bind(name, a, k, ["d", "attribute"], ["", null]);
                var items = PyOps.Iterate(v);
                if (p[1] is not null) items = items.Select(x => AttrPath(x, p[1])).ToList();
                return Access.Join(PyOps.Str(p[0]), items.Select(PyOps.Str).ToList());
            }
            case "first":
            {
                Access.Bind(name, a, k, [], []);
                var items = PyOps.Iterate(v);
                return items.Count > 0 ? items[0] : new Undefined("No first item, sequence was empty.");
            }
            case "last":
            {
                Access.Bind(name, a, k, [], []);
                if (v is not (string or List<object?> or object?[] or PyDict or Undefined))
                    throw new TemplateError($"'{PyOps.TypeName(v)}' object is not reversible");
                var items = PyOps.Iterate(v);
                return items.Count > 0 ? items[^1] : new Undefined("No last item, sequence was empty.");
            }
            case "default":
            case "d":
            {
                var p = Access.Bind(name, a, k, ["default_value", "boolean"], ["", false]);
                bool use = v is Undefined || (PyOps.Truthy(p[1]) && !PyOps.Truthy(v));
                return use ? p[0] : v;
            }
            case "items":
                Access.Bind(name, a, k, [], []);
                if (v is PyDict counted) RenderBudget.Charge(counted.Count);
                return v switch
                {
                    Undefined => new List<object?>(),
                    PyDict d => d.Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToList(),
                    _ => throw new TemplateError($"Can only get item pairs from a mapping, not {PyOps.TypeName(v)}"),
                };
            case "string": return PyOps.Str(v);
            case "int":
            {
                var p = Access.Bind(name, a, k, ["default", "base"], [0L, 10L]);
                return ToInt(v, p[0], (int)PyOps.ToDouble(p[1]));
            }
            case "float":
            {
                var p = Access.Bind(name, a, k, ["default"], [0.0]);
                return ToFloat(v, p[0]);
            }
            case "bool": return PyOps.Truthy(v);
            case "list": return PyOps.Iterate(v);
            case "abs":
                return v switch
                {
                    long l => (object)Math.Abs(l),
                    double d => (object)Math.Abs(d),
                    bool b => (object)(b ? 1L : 0L),
                    _ => throw new TemplateError($"bad operand type for abs(): '{PyOps.TypeName(v)}'"),
                };
            case "round":
            {
                var p = Access.Bind(name, a, k, ["precision", "method"], [0L, "common"]);
                int digits = (int)PyOps.ToDouble(p[0]);
                string method = PyOps.Str(p[1]);
                if (v is long or bool && method == "common") return (long)PyOps.ToDouble(v);
                if (!PyOps.IsNumber(v)) throw new TemplateError($"type {PyOps.TypeName(v)} doesn't define __round__ method");
                double x = PyOps.ToDouble(v);
                double scale = Math.Pow(10, digits);
                return method switch
                {
                    "common" => Math.Round(x, Math.Clamp(digits, 0, 15), MidpointRounding.ToEven),
                    "floor" => Math.Floor(x * scale) / scale,
                    "ceil" => Math.Ceiling(x * scale) / scale,
                    _ => throw new TemplateError("method must be common, ceil or floor"),
                };
            }
            case "reverse":
                if (v is string rs)
                {
                    RenderBudget.ChargeChars(rs.Length);
                    var runes = rs.EnumerateRunes().Reverse();
                    return string.Concat(runes.Select(r => r.ToString()));
                }
                if (v is not (List<object?> or object?[] or PyDict or Undefined))
                    throw new TemplateError("argument must be iterable");
                var rev = PyOps.Iterate(v);
                rev.Reverse();
                return rev;
            case "sort":
            {
                var p = Access.Bind(name, a, k, ["reverse", "case_sensitive", "attribute"], [false, false, null]);
                var items = PyOps.Iterate(v);
                bool cs = PyOps.Truthy(p[1]);
                var keyed = items.Select(x => (Item: x, Key: SortKey(p[2] is null ? x : AttrPath(x, p[2]), cs))).ToList();
                return StableSort(keyed, t => t.Key, PyOps.Truthy(p[0])).Select(t => t.Item).ToList();
            }
            case "dictsort":
            {
                var p = Access.Bind(name, a, k, ["case_sensitive", "by", "reverse"], [false, "key", false]);
                if (v is not PyDict d) throw new TemplateError($"'{PyOps.TypeName(v)}' object has no attribute 'items'");
                bool byValue = PyOps.Str(p[1]) == "value";
                var pairs = d.Select(kv => (Pair: (object?)new object?[] { kv.Key, kv.Value }, Key: SortKey(byValue ? kv.Value : kv.Key, PyOps.Truthy(p[0])))).ToList();
                return StableSort(pairs, t => t.Key, PyOps.Truthy(p[2])).Select(t => t.Pair).ToList();
            }
            case "unique":
            {
                var p = Access.Bind(name, a, k, ["case_sensitive", "attribute"], [false, null]);
                // Jinja2 keeps a set of the keys seen, so keys must be hashable, as there.
                var seen = new HashSet<object>(PyKeyComparer.Instance);
                bool seenNone = false;
                var result = new List<object?>();
                foreach (var x in PyOps.Iterate(v))
                {
                    var key = SortKey(p[1] is null ? x : AttrPath(x, p[1]), PyOps.Truthy(p[0]));
                    if (key is List<object?> or PyDict or Namespace) throw new TemplateError($"unhashable type: '{PyOps.TypeName(key)}'");
                    bool added;
                    if (key is null)
                    {
                        added = !seenNone;
                        seenNone = true;
                    }
                    else added = seen.Add(key);
                    if (added) result.Add(x);
                }
                return result;
            }
            case "max":
            case "min":
            {
                var p = Access.Bind(name, a, k, ["case_sensitive", "attribute"], [false, null]);
                var items = PyOps.Iterate(v);
                if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
                object? best = items[0];
                foreach (var x in items.Skip(1))
                {
                    int c = PyOps.Compare(SortKey(p[1] is null ? x : AttrPath(x, p[1]), PyOps.Truthy(p[0])),
                        SortKey(p[1] is null ? best : AttrPath(best, p[1]), PyOps.Truthy(p[0])), "<");
                    if (name == "max" ? c > 0 : c < 0) best = x;
                }
                return best;
            }
            case "sum":
            {
                var p = Access.Bind(name, a, k, ["attribute", "start"], [null, 0L]);
                object? total = p[1];
                foreach (var x in PyOps.Iterate(v)) total = PyOps.Add(total, p[0] is null ? x : AttrPath(x, p[0]));
                return total;
            }
            case "attr":
            {
                var p = Access.Bind(name, a, k, ["name"], [null]);
                return Access.GetAttr(v, PyOps.Str(p[0]));
            }
            case "selectattr":
            case "rejectattr":
            {
                if (a.Count == 0) throw new TemplateError($"{name}() needs an attribute name");
                var attr = a[0];
                return SelectOrReject(v, a.Skip(1).ToList(), k, name == "selectattr", x => AttrPath(x, attr));
            }
            case "select":
            case "reject":
                return SelectOrReject(v, a, k, name == "select", x => x);
            case "map":
            {
                var items = PyOps.Iterate(v);
                if (a.Count == 0 && k.TryGetValue("attribute", out var attribute))
                {
                    k.TryGetValue("default", out var dflt);
                    return items.Select(x =>
                    {
                        var r = AttrPath(x, attribute);
                        return r is Undefined && k.ContainsKey("default") ? dflt : r;
                    }).ToList();
                }
                if (a.Count == 0) throw new TemplateError("map requires a filter argument");
                string filter = PyOps.Str(a[0]);
                if (!IsKnown(filter)) throw new TemplateError($"unsupported filter '{filter}'");
                var rest = a.Skip(1).ToList();
                return items.Select(x => Apply(filter, x, [.. rest], new Dictionary<string, object?>(k))).ToList();
            }
            case "safe": return PyOps.Str(v);
            case "e":
            case "escape": return Escape(PyOps.Str(v));
            case "indent":
            {
                var p = Access.Bind(name, a, k, ["width", "first", "blank"], [4L, false, false]);
                string indention = p[0] is string ws ? ws : new string(' ', RenderBudget.CheckWidth((long)PyOps.ToDouble(p[0]), "indent width"));
                // Jinja2 appends "\n" to the value itself, so anything but a string fails there.
                if (v is not string text) throw new TemplateError($"unsupported operand type(s) for +=: '{PyOps.TypeName(v)}' and 'str'");
                return Indent(text, indention, PyOps.Truthy(p[1]), PyOps.Truthy(p[2]));
            }
            case "wordcount": return (long)WordRegex().Matches(Charged(PyOps.Str(v))).Count;
        }
        throw new TemplateError($"unsupported filter '{name}'");
    }

    // Python's sort, reverse included, is stable: equal keys keep their order, as OrderBy and
    // OrderByDescending keep it. The sorter wraps what the comparison throws; the template's own
    // error is what the user must see.
    private static List<T> StableSort<T>(List<T> items, Func<T, object?> key, bool descending)
    {
        RenderBudget.Charge((long)items.Count * (1 + (long)Math.Log2(items.Count + 1)));
        var cmp = Comparer<object?>.Create((x, y) => PyOps.Compare(x, y, "<"));
        try
        {
            return (descending ? items.OrderByDescending(key, cmp) : items.OrderBy(key, cmp)).ToList();
        }
        catch (InvalidOperationException e) when (e.InnerException is TemplateError inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
            throw;
        }
    }

    private static string Charged(string s)
    {
        RenderBudget.ChargeChars(s.Length);
        return s;
    }

    private static List<object?> SelectOrReject(object? v, List<object?> a, Dictionary<string, object?> k, bool select, Func<object?, object?> project)
    {
        var items = PyOps.Iterate(v);
        Func<object?, bool> check;
        if (a.Count == 0)
        {
            check = PyOps.Truthy;
        }
        else
        {
            string test = PyOps.Str(a[0]);
            if (!JinjaTests.IsKnown(test)) throw new TemplateError($"unsupported test '{test}'");
            var rest = a.Skip(1).ToList();
            check = x => JinjaTests.Apply(test, x, rest, k);
        }
        return items.Where(x => check(project(x)) == select).ToList();
    }

    // Jinja2's attribute paths ("function.name", "0") look items up first, as subscripting does.
    public static object? AttrPath(object? obj, object? path)
    {
        if (path is long idx) return Access.GetItem(obj, idx);
        foreach (string part in PyOps.Str(path).Split('.'))
        {
            if (obj is Undefined) return obj;
            object key = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : part;
            obj = Access.GetItem(obj, key);
        }
        return obj;
    }

    private static object? SortKey(object? v, bool caseSensitive) =>
        !caseSensitive && v is string s ? s.ToLowerInvariant() : v;

    private static object ToInt(object? v, object? dflt, int numberBase)
    {
        switch (v)
        {
            case long l: return l;
            case bool b: return b ? 1L : 0L;
            case double d: return double.IsFinite(d) ? (long)Math.Truncate(d) : dflt!;
            case string s:
            {
                string t = s.Trim().Replace("_", "");
                try
                {
                    if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long r)) return r;
                    if (numberBase != 10) return Convert.ToInt64(t, numberBase);
                }
                catch (FormatException) { return dflt!; }
                catch (ArgumentException) { return dflt!; }
                return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && double.IsFinite(f)
                    ? (long)Math.Truncate(f) : dflt!;
            }
        }
        return dflt!;
    }

    private static object ToFloat(object? v, object? dflt) => v switch
    {
        long l => (double)l,
        double d => d,
        bool b => b ? 1.0 : 0.0,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double f) => f,
        _ => dflt!,
    };

    // Jinja2's title filter: each chunk after a run of whitespace, '-', '(', '{', '[' or '<' is
    // capitalized; everything else in the chunk lowered.
    private static string JinjaTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool start = true;
        foreach (char c in s)
        {
            bool sep = char.IsWhiteSpace(c) || c is '-' or '(' or '{' or '[' or '<';
            if (sep) { sb.Append(c); start = true; continue; }
            sb.Append(start ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            start = false;
        }
        return sb.ToString();
    }

    private static string Escape(string s)
    {
        // '&' becomes '&amp;', the longest replacement: four more characters each at most.
        RenderBudget.CheckString(s.Length + 4L * s.Count(c => c is '&' or '<' or '>' or '"' or '\''), "the escaped text");
        return s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");
    }

    private static string Indent(string s, string indention, bool first, bool blank)
    {
        s += "\n";
        var lines = Access.SplitLines(s, false).Select(x => (string)x!).ToList();
        RenderBudget.CheckString(s.Length + (long)(lines.Count + 1) * indention.Length, "the indented text");
        string rv;
        if (blank)
        {
            rv = string.Join("\n" + indention, lines);
        }
        else
        {
            rv = lines[0];
            if (lines.Count > 1)
                rv += "\n" + string.Join("\n", lines.Skip(1).Select(line => line.Length > 0 ? indention + line : line));
        }
        return first ? indention + rv : rv;
    }

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordRegex();
}
