using System.Text;

namespace Retort.Engine.Templates;

/// <summary>
/// Attribute and item lookup as Jinja2's sandbox does it, plus the Python methods of str, dict and
/// list that templates call. `x.name` tries the Python attribute (a method) before the dict key;
/// `x['name']` tries the key first. Misses give Undefined; mutating methods are refused as the
/// immutable sandbox refuses them.
/// </summary>
internal static class Access
{
    private static readonly HashSet<string> StrMethods =
        ["strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith", "replace", "upper", "lower",
         "title", "capitalize", "find", "rfind", "count", "join", "splitlines", "isdigit", "isalpha", "isspace",
         "isalnum", "isupper", "islower", "index", "removeprefix", "removesuffix"];

    // Python methods that exist but are not implemented here: using one must fail loudly, not
    // quietly become Undefined as a truly missing attribute would.
    private static readonly HashSet<string> StrUnsupported =
        ["format", "format_map", "center", "ljust", "rjust", "zfill", "expandtabs", "partition", "rpartition",
         "casefold", "swapcase", "translate", "maketrans", "encode", "isdecimal", "isnumeric", "isidentifier",
         "isprintable", "istitle", "isascii", "rindex"];

    private static readonly HashSet<string> DictMethods = ["items", "keys", "values", "get"];

    private static readonly HashSet<string> DictUnsupported = ["copy", "fromkeys"];

    private static readonly HashSet<string> Mutating =
        ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault", "popitem"];

    private static readonly HashSet<string> ListMethods = ["index", "count"];

    private static readonly HashSet<string> ListUnsupported = ["copy"];

    public static object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u: throw u.Fail();
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out var nv) ? nv : Missing(obj, name);
            case LoopInfo loop: return LoopAttr(loop, name);
        }
        if (name.StartsWith('_')) return new Undefined($"access to attribute '{name}' of '{PyOps.TypeName(obj)}' object is unsafe.");
        var method = BindMethod(obj, name);
        if (method != null) return method;
        if (obj is PyDict d && d.TryGetValue(name, out var v)) return v;
        return Missing(obj, name);
    }

    public static object? GetItem(object? obj, object? key)
    {
        switch (obj)
        {
            case Undefined u: throw u.Fail();
            case PyDict d:
                if (key is not null and not Undefined && d.TryGetValue(key, out var v)) return v;
                break;
            case List<object?> l when key is long or bool:
                if (PyOps.TryIndex(l.Count, IndexOf(key), out int i)) return l[i];
                break;
            case object?[] t when key is long or bool:
                if (PyOps.TryIndex(t.Length, IndexOf(key), out int ti)) return t[ti];
                break;
            case string s when key is long or bool:
            {
                RenderBudget.ChargeChars(s.Length);
                var runes = s.EnumerateRunes().ToArray();
                if (PyOps.TryIndex(runes.Length, IndexOf(key), out int si)) return runes[si].ToString();
                break;
            }
        }
        if (key is string name && obj is not PyDict) return GetAttr(obj, name);
        if (key is string dictName && obj is PyDict)
        {
            var method = BindMethod(obj, dictName);
            if (method != null) return method;
        }
        return Missing(obj, key);
    }

    private static long IndexOf(object? key) => key is bool b ? (b ? 1 : 0) : (long)key!;

    // Jinja2's wording: "'dict object' has no attribute 'x'", "list object has no element 3".
    private static Undefined Missing(object? obj, object? key)
    {
        string what = obj switch
        {
            null => "None",
            Namespace => "Namespace object",
            _ => $"{PyOps.TypeName(obj)} object",
        };
        return new Undefined(key is string s ? $"'{what}' has no attribute '{s}'" : $"{what} has no element {PyOps.Repr(key)}");
    }

    public static object? Slice(object? obj, object? start, object? stop, object? step)
    {
        switch (obj)
        {
            case Undefined u: throw u.Fail();
            case List<object?> l: return PyOps.SliceIndices(l.Count, start, stop, step).Select(i => l[i]).ToList();
            case object?[] t: return PyOps.SliceIndices(t.Length, start, stop, step).Select(i => t[i]).ToArray();
            case string s:
            {
                RenderBudget.ChargeChars(s.Length);
                var runes = s.EnumerateRunes().ToArray();
                var sb = new StringBuilder();
                foreach (int i in PyOps.SliceIndices(runes.Length, start, stop, step)) sb.Append(runes[i].ToString());
                return sb.ToString();
            }
        }
        throw new TemplateError($"'{PyOps.TypeName(obj)}' object is not subscriptable");
    }

    private static object? LoopAttr(LoopInfo loop, string name)
    {
        int n = loop.Items.Count, i = loop.Index0;
        return name switch
        {
            "index" => (long)(i + 1),
            "index0" => (long)i,
            "revindex" => (long)(n - i),
            "revindex0" => (long)(n - i - 1),
            "first" => i == 0,
            "last" => i == n - 1,
            "length" => (long)n,
            "depth" => (long)loop.Depth,
            "depth0" => (long)(loop.Depth - 1),
            "previtem" => i > 0 ? loop.Items[i - 1] : new Undefined("there is no previous item"),
            "nextitem" => i < n - 1 ? loop.Items[i + 1] : new Undefined("there is no next item"),
            "cycle" => new Callable("cycle", (args, _) =>
                args.Count == 0 ? throw new TemplateError("no items for cycling given") : args[i % args.Count]),
            _ => throw new TemplateError($"unsupported loop attribute 'loop.{name}'"),
        };
    }

    private static Callable? BindMethod(object? obj, string name)
    {
        switch (obj)
        {
            case string s:
                if (StrMethods.Contains(name)) return new Callable(name, (a, k) => StrMethod(s, name, a, k));
                if (StrUnsupported.Contains(name)) throw new TemplateError($"unsupported string method '{name}'");
                return null;
            case PyDict d:
                if (DictMethods.Contains(name)) return new Callable(name, (a, k) => DictMethod(d, name, a, k));
                if (Mutating.Contains(name)) return Unsafe(name, "dict");
                if (DictUnsupported.Contains(name)) throw new TemplateError($"unsupported dict method '{name}'");
                return null;
            case List<object?> l:
                if (ListMethods.Contains(name)) return new Callable(name, (a, k) => ListMethod(l, name, a, k));
                if (Mutating.Contains(name)) return Unsafe(name, "list");
                if (ListUnsupported.Contains(name)) throw new TemplateError($"unsupported list method '{name}'");
                return null;
        }
        return null;
    }

    private static Callable Unsafe(string name, string type) =>
        new(name, (_, _) => throw new TemplateError($"access to attribute '{name}' of '{type}' object is unsafe."));

    public static object?[] Bind(string fn, List<object?> pos, Dictionary<string, object?> kw, string[] names, object?[] defaults)
    {
        if (pos.Count > names.Length) throw new TemplateError($"{fn}() takes at most {names.Length} arguments ({pos.Count} given)");
        var result = new object?[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (i < pos.Count) result[i] = pos[i];
            else if (kw.TryGetValue(names[i], out var v)) result[i] = v;
            else result[i] = defaults[i];
        }
        foreach (var key in kw.Keys)
            if (Array.IndexOf(names, key) < 0) throw new TemplateError($"{fn}() got an unexpected keyword argument '{key}'");
        return result;
    }

    private static string? OptChars(object? v) => v switch
    {
        null or Undefined => null,
        string s => s,
        _ => throw new TemplateError($"strip arg must be None or str, not {PyOps.TypeName(v)}"),
    };

    private static string StripChars(string s, string? chars, bool left, bool right)
    {
        int start = 0, end = s.Length;
        bool Strip(char c) => chars == null ? char.IsWhiteSpace(c) : chars.Contains(c);
        if (left) while (start < end && Strip(s[start])) start++;
        if (right) while (end > start && Strip(s[end - 1])) end--;
        return s[start..end];
    }

    private static object? StrMethod(string s, string name, List<object?> a, Dictionary<string, object?> k)
    {
        if (name is not ("startswith" or "endswith")) RenderBudget.ChargeChars(s.Length);
        switch (name)
        {
            case "strip": return StripChars(s, OptChars(Bind(name, a, k, ["chars"], [null])[0]), true, true);
            case "lstrip": return StripChars(s, OptChars(Bind(name, a, k, ["chars"], [null])[0]), true, false);
            case "rstrip": return StripChars(s, OptChars(Bind(name, a, k, ["chars"], [null])[0]), false, true);
            case "split":
            case "rsplit":
            {
                var p = Bind(name, a, k, ["sep", "maxsplit"], [null, -1L]);
                long max = (long)PyOps.ToDouble(p[1]);
                return Split(s, OptChars(p[0]), max, name == "rsplit");
            }
            case "splitlines":
            {
                var p = Bind(name, a, k, ["keepends"], [false]);
                return SplitLines(s, PyOps.Truthy(p[0]));
            }
            case "startswith":
            case "endswith":
            {
                var p = Bind(name, a, k, ["prefix"], [null]);
                var options = p[0] is object?[] t ? t : [p[0]];
                foreach (var o in options)
                {
                    if (o is not string str) throw new TemplateError($"{name} first arg must be str or a tuple of str, not {PyOps.TypeName(o)}");
                    if (name == "startswith" ? s.StartsWith(str, StringComparison.Ordinal) : s.EndsWith(str, StringComparison.Ordinal)) return true;
                }
                return false;
            }
            case "replace":
            {
                var p = Bind(name, a, k, ["old", "new", "count"], [null, null, -1L]);
                return Replace(s, ReqStr(p[0], name), ReqStr(p[1], name), (long)PyOps.ToDouble(p[2]));
            }
            case "upper": return s.ToUpperInvariant();
            case "lower": return s.ToLowerInvariant();
            case "title": return PyTitle(s);
            case "capitalize": return s.Length == 0 ? s : s[..1].ToUpperInvariant() + s[1..].ToLowerInvariant();
            case "find":
            case "rfind":
            case "index":
            {
                var p = Bind(name, a, k, ["sub"], [null]);
                string sub = ReqStr(p[0], name);
                int i = name == "rfind" ? s.LastIndexOf(sub, StringComparison.Ordinal) : s.IndexOf(sub, StringComparison.Ordinal);
                if (i < 0 && name == "index") throw new TemplateError("substring not found");
                return i < 0 ? -1L : (long)PyOps.CodePoints(s[..i]);
            }
            case "count":
            {
                var p = Bind(name, a, k, ["sub"], [null]);
                string sub = ReqStr(p[0], name);
                if (sub.Length == 0) return (long)(PyOps.CodePoints(s) + 1);
                long n = 0;
                for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
                return n;
            }
            case "join":
            {
                var p = Bind(name, a, k, ["iterable"], [null]);
                return Join(s, PyOps.Iterate(p[0]).Select(x => x as string
                    ?? throw new TemplateError($"sequence item: expected str instance, {PyOps.TypeName(x)} found")).ToList());
            }
            case "removeprefix": { string x = ReqStr(Bind(name, a, k, ["prefix"], [null])[0], name); return s.StartsWith(x, StringComparison.Ordinal) ? s[x.Length..] : s; }
            case "removesuffix": { string x = ReqStr(Bind(name, a, k, ["suffix"], [null])[0], name); return x.Length > 0 && s.EndsWith(x, StringComparison.Ordinal) ? s[..^x.Length] : s; }
            case "isdigit": return s.Length > 0 && s.All(char.IsDigit);
            case "isalpha": return s.Length > 0 && s.All(char.IsLetter);
            case "isalnum": return s.Length > 0 && s.All(char.IsLetterOrDigit);
            case "isspace": return s.Length > 0 && s.All(char.IsWhiteSpace);
            case "isupper": return s.Any(char.IsLetter) && !s.Any(char.IsLower);
            case "islower": return s.Any(char.IsLetter) && !s.Any(char.IsUpper);
        }
        throw new TemplateError($"unsupported string method '{name}'");
    }

    private static string ReqStr(object? v, string fn) =>
        v as string ?? throw new TemplateError($"{fn}() argument must be str, not {PyOps.TypeName(v)}");

    /// <summary>string.Join, refused before it is built when the result would pass the string limit.</summary>
    public static string Join(string separator, List<string> parts)
    {
        long length = (long)separator.Length * Math.Max(0, parts.Count - 1);
        foreach (string p in parts) length += p.Length;
        RenderBudget.CheckString(length, "a joined string");
        return string.Join(separator, parts);
    }

    public static string Replace(string s, string old, string replacement, long count)
    {
        long hits = old.Length == 0 ? PyOps.CodePoints(s) + 1L : CountOf(s, old);
        if (count >= 0) hits = Math.Min(hits, count);
        RenderBudget.CheckString(s.Length + hits * (replacement.Length - (long)old.Length), "a replaced string");
        if (count < 0) return old.Length == 0 ? InsertBetween(s, replacement) : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        int pos = 0;
        for (long n = 0; n < count; n++)
        {
            int i = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (i < 0 || old.Length == 0) break;
            sb.Append(s, pos, i - pos).Append(replacement);
            pos = i + old.Length;
        }
        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static long CountOf(string s, string sub)
    {
        long n = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static string InsertBetween(string s, string r)
    {
        var sb = new StringBuilder(r);
        foreach (var rune in s.EnumerateRunes()) sb.Append(rune.ToString()).Append(r);
        return sb.ToString();
    }

    private static List<object?> Split(string s, string? sep, long max, bool fromRight)
    {
        var parts = new List<string>();
        if (sep == null)
        {
            // Whitespace split: runs of whitespace separate, leading/trailing whitespace ignored.
            var words = new List<(int Start, int End)>();
            int i = 0;
            while (i < s.Length)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
                if (i >= s.Length) break;
                int st = i;
                while (i < s.Length && !char.IsWhiteSpace(s[i])) i++;
                words.Add((st, i));
                if (words.Count > TemplateLimits.MaxItems) RenderBudget.CheckItems(words.Count, "a split string");
            }
            if (max < 0 || words.Count <= max) return words.Select(w => (object?)s[w.Start..w.End]).ToList();
            if (!fromRight)
            {
                var res = words.Take((int)max).Select(w => (object?)s[w.Start..w.End]).ToList();
                res.Add(s[words[(int)max].Start..]);
                return res;
            }
            var tail = words.Skip(words.Count - (int)max).Select(w => (object?)s[w.Start..w.End]).ToList();
            tail.Insert(0, s[..words[words.Count - (int)max - 1].End]);
            return tail;
        }
        if (sep.Length == 0) throw new TemplateError("empty separator");
        RenderBudget.CheckItems(CountOf(s, sep) + 1, "a split string");
        var all = s.Split(sep);
        if (max < 0 || all.Length - 1 <= max) return all.Select(x => (object?)x).ToList();
        if (!fromRight)
        {
            var head = all.Take((int)max).Select(x => (object?)x).ToList();
            head.Add(string.Join(sep, all.Skip((int)max)));
            return head;
        }
        var right = all.Skip(all.Length - (int)max).Select(x => (object?)x).ToList();
        right.Insert(0, string.Join(sep, all.Take(all.Length - (int)max)));
        return right;
    }

    public static List<object?> SplitLines(string s, bool keepEnds)
    {
        var result = new List<object?>();
        int start = 0, i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            int brk = c switch
            {
                '\r' when i + 1 < s.Length && s[i + 1] == '\n' => 2,
                '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029' => 1,
                _ => 0,
            };
            if (brk == 0) { i++; continue; }
            result.Add(s[start..(keepEnds ? i + brk : i)]);
            if (result.Count > TemplateLimits.MaxItems) RenderBudget.CheckItems(result.Count, "the lines of a string");
            i += brk;
            start = i;
        }
        if (start < s.Length) result.Add(s[start..]);
        return result;
    }

    // str.title(): a cased character starts a word when the previous character is not cased.
    public static string PyTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevCased = false;
        foreach (char c in s)
        {
            bool cased = char.IsLetter(c);
            sb.Append(cased ? (prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)) : c);
            prevCased = cased;
        }
        return sb.ToString();
    }

    private static object? DictMethod(PyDict d, string name, List<object?> a, Dictionary<string, object?> k)
    {
        if (name != "get") RenderBudget.Charge(d.Count);
        switch (name)
        {
            case "items": Bind(name, a, k, [], []); return d.Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToList();
            case "keys": Bind(name, a, k, [], []); return d.Keys.Select(x => (object?)x).ToList();
            case "values": Bind(name, a, k, [], []); return d.Values.ToList();
            case "get":
            {
                var p = Bind(name, a, k, ["key", "default"], [null, null]);
                return p[0] is not null and not Undefined && d.TryGetValue(p[0]!, out var v) ? v : p[1];
            }
        }
        throw new TemplateError($"unsupported dict method '{name}'");
    }

    private static object? ListMethod(List<object?> l, string name, List<object?> a, Dictionary<string, object?> k)
    {
        var p = Bind(name, a, k, ["value"], [null]);
        RenderBudget.Charge(l.Count);
        if (name == "count") return (long)l.Count(x => PyOps.Eq(x, p[0]));
        int i = l.FindIndex(x => PyOps.Eq(x, p[0]));
        if (i < 0) throw new TemplateError($"{PyOps.Repr(p[0])} is not in list");
        return (long)i;
    }
}
