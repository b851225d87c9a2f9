using System.Globalization;
using System.Text;

namespace Retort.Engine.Templates;

/// <summary>
/// Python semantics for the values templates see: None is null, int is long, float is double,
/// str is string, list is List&lt;object?&gt;, tuple is object?[], dict is <see cref="PyDict"/>.
/// Rendering must match CPython's str()/repr() byte for byte, since reference outputs come from it.
/// </summary>
internal static class PyOps
{
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        Undefined => "Undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        object?[] => "tuple",
        PyDict => "dict",
        Namespace => "Namespace",
        Callable => "function",
        LoopInfo => "LoopContext",
        _ => v.GetType().Name,
    };

    public static bool Truthy(object? v) => v switch
    {
        null => false,
        Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        object?[] t => t.Length > 0,
        PyDict d => d.Count > 0,
        _ => true,
    };

    public static string Str(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(v),
    };

    public static string Repr(object? v)
    {
        switch (v)
        {
            case null: return "None";
            case Undefined: return "";
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FloatRepr(d);
            case string s: return StringRepr(s);
            case Callable c: return $"<function {c.Name}>";
            case List<object?> or object?[] or PyDict or Namespace:
            {
                var sb = new StringBuilder();
                AppendRepr(sb, v, 0);
                return sb.ToString();
            }
            default: return v.ToString() ?? "";
        }
    }

    // Containers are written into one builder, so [s] * 100000 with a long s is refused when the
    // text passes the string limit, not after it was built.
    private static void AppendRepr(StringBuilder sb, object? v, int depth)
    {
        switch (v)
        {
            case List<object?> list:
                RenderBudget.CheckValueDepth(depth);
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, list[i], depth + 1);
                }
                sb.Append(']');
                break;
            case object?[] t:
                RenderBudget.CheckValueDepth(depth);
                sb.Append('(');
                for (int i = 0; i < t.Length; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, t[i], depth + 1);
                }
                sb.Append(t.Length == 1 ? ",)" : ")");
                break;
            case PyDict d:
            {
                RenderBudget.CheckValueDepth(depth);
                sb.Append('{');
                bool first = true;
                foreach (var kv in d)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    AppendRepr(sb, kv.Key, depth + 1);
                    sb.Append(": ");
                    AppendRepr(sb, kv.Value, depth + 1);
                }
                sb.Append('}');
                break;
            }
            case Namespace ns:
            {
                RenderBudget.CheckValueDepth(depth);
                sb.Append("<Namespace ");
                bool first = true;
                foreach (var kv in ns.Attributes)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(kv.Key).Append('=');
                    AppendRepr(sb, kv.Value, depth + 1);
                }
                sb.Append('>');
                break;
            }
            default:
            {
                string piece = Repr(v);
                RenderBudget.CheckLength(sb.Length + (long)piece.Length, "a value's text");
                RenderBudget.ChargeChars(piece.Length);
                sb.Append(piece);
                return;
            }
        }
        RenderBudget.CheckLength(sb.Length, "a value's text");
    }

    /// <summary>The ~ operator: two strings joined, refused past the string limit.</summary>
    public static string Concat(string a, string b)
    {
        RenderBudget.CheckString((long)a.Length + b.Length, "a joined string");
        return a + b;
    }

    /// <summary>CPython's float repr: shortest round-trip digits, scientific outside 1e-4..1e16.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // Shortest round-trip digits come from "R"; parse them into digits and exponent.
        string shortest = d.ToString("R", CultureInfo.InvariantCulture);
        bool neg = shortest.StartsWith('-');
        if (neg) shortest = shortest[1..];
        int exp = 0;
        int e = shortest.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exp = int.Parse(shortest[(e + 1)..], CultureInfo.InvariantCulture);
            shortest = shortest[..e];
        }
        int dot = shortest.IndexOf('.');
        string digits = dot >= 0 ? shortest.Remove(dot, 1) : shortest;
        int pointPos = (dot >= 0 ? dot : shortest.Length) + exp;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; pointPos--; }
        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int decExp = pointPos - 1; // exponent in d.ddd form
        var sb = new StringBuilder();
        if (neg) sb.Append('-');
        if (decExp < -4 || decExp >= 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(decExp < 0 ? '-' : '+').Append(Math.Abs(decExp).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (pointPos <= 0)
        {
            sb.Append("0.").Append('0', -pointPos).Append(digits);
        }
        else if (pointPos >= digits.Length)
        {
            sb.Append(digits).Append('0', pointPos - digits.Length).Append(".0");
        }
        else
        {
            sb.Append(digits, 0, pointPos).Append('.').Append(digits, pointPos, digits.Length - pointPos);
        }
        return sb.ToString();
    }

    public static string StringRepr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2);
        sb.Append(quote);
        foreach (Rune r in s.EnumerateRunes())
        {
            int c = r.Value;
            if (c == quote || c == '\\') sb.Append('\\').Append((char)c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
            else if (!IsPrintable(r))
            {
                if (c <= 0xff) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
                else if (c <= 0xffff) sb.Append("\\u").Append(c.ToString("x4", CultureInfo.InvariantCulture));
                else sb.Append("\\U").Append(c.ToString("x8", CultureInfo.InvariantCulture));
            }
            else sb.Append(r.ToString());
        }
        sb.Append(quote);
        return sb.ToString();
    }

    private static bool IsPrintable(Rune r)
    {
        if (r.Value == ' ') return true;
        var cat = Rune.GetUnicodeCategory(r);
        return cat is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);
    }

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new TemplateError($"expected a number, found {TypeName(v)}"),
    };

    public static bool Eq(object? a, object? b) => Eq(a, b, 0);

    private static bool Eq(object? a, object? b, int depth)
    {
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a) == ToDouble(b);
            return AsLong(a) == AsLong(b);
        }
        switch (a)
        {
            case string sa: return b is string sb && sa == sb;
            case List<object?> la: return b is List<object?> lb && SeqEq(la, lb, depth);
            case object?[] ta: return b is object?[] tb && SeqEq(ta, tb, depth);
            case PyDict da:
                if (b is not PyDict db || da.Count != db.Count) return false;
                RenderBudget.CheckValueDepth(depth);
                RenderBudget.Charge(da.Count);
                foreach (var kv in da)
                    if (!db.TryGetValue(kv.Key, out var other) || !Eq(kv.Value, other, depth + 1)) return false;
                return true;
            default: return ReferenceEquals(a, b);
        }
    }

    private static long AsLong(object v) => v switch { long l => l, bool b => b ? 1 : 0, _ => 0 };

    private static bool SeqEq(IReadOnlyList<object?> a, IReadOnlyList<object?> b, int depth)
    {
        if (a.Count != b.Count) return false;
        RenderBudget.CheckValueDepth(depth);
        RenderBudget.Charge(a.Count);
        for (int i = 0; i < a.Count; i++)
            if (!Eq(a[i], b[i], depth + 1)) return false;
        return true;
    }

    public static int Compare(object? a, object? b, string op) => Compare(a, b, op, 0);

    private static int Compare(object? a, object? b, string op, int depth)
    {
        if (a is Undefined u) throw u.Fail();
        if (b is Undefined ub) throw ub.Fail();
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a).CompareTo(ToDouble(b));
            return AsLong(a!).CompareTo(AsLong(b!));
        }
        if (a is string sa && b is string sb) return string.CompareOrdinal(sa, sb);
        if ((a is List<object?> && b is List<object?>) || (a is object?[] && b is object?[]))
        {
            var la = (IReadOnlyList<object?>)a;
            var lb = (IReadOnlyList<object?>)b;
            RenderBudget.CheckValueDepth(depth);
            RenderBudget.Charge(Math.Min(la.Count, lb.Count));
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (Eq(la[i], lb[i], depth + 1)) continue;
                return Compare(la[i], lb[i], op, depth + 1);
            }
            return la.Count.CompareTo(lb.Count);
        }
        throw new TemplateError($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static List<object?> Iterate(object? v)
    {
        switch (v)
        {
            case Undefined: return [];
            case List<object?> l: RenderBudget.Charge(l.Count); return [.. l];
            case object?[] t: RenderBudget.Charge(t.Length); return [.. t];
            case PyDict d: RenderBudget.Charge(d.Count); return [.. d.Keys];
            case string s:
                // One string per character costs ~30 bytes each: counted as items, not characters.
                RenderBudget.CheckItems(s.Length, "the characters of a string");
                return [.. s.EnumerateRunes().Select(r => (object?)r.ToString())];
            case LoopInfo: throw new TemplateError("'LoopContext' object is not iterable");
            default: throw new TemplateError($"'{TypeName(v)}' object is not iterable");
        }
    }

    public static long Len(object? v) => v switch
    {
        Undefined => 0,
        string s => CodePoints(s),
        List<object?> l => l.Count,
        object?[] t => t.Length,
        PyDict d => d.Count,
        Namespace ns => ns.Attributes.Count,
        _ => throw new TemplateError($"object of type '{TypeName(v)}' has no len()"),
    };

    public static int CodePoints(string s)
    {
        RenderBudget.ChargeChars(s.Length);
        int n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case Undefined: return false;
            case string s:
                if (item is Undefined u) throw u.Fail();
                if (item is not string needle) throw new TemplateError($"'in <string>' requires string as left operand, not {TypeName(item)}");
                RenderBudget.ChargeChars(s.Length);
                return s.Contains(needle, StringComparison.Ordinal);
            case List<object?> l: RenderBudget.Charge(l.Count); return l.Any(x => Eq(x, item));
            case object?[] t: RenderBudget.Charge(t.Length); return t.Any(x => Eq(x, item));
            case PyDict d: return item is not null && item is not Undefined && d.ContainsKey(item);
            case Namespace ns: return item is string k && ns.Attributes.ContainsKey(k);
            default: throw new TemplateError($"argument of type '{TypeName(container)}' is not iterable");
        }
    }

    public static object? Add(object? a, object? b)
    {
        FailUndefined(a, b);
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? (object)(ToDouble(a) + ToDouble(b)) : (object)Checked(() => checked(AsLong(a!) + AsLong(b!)));
        if (a is string sa && b is string sb) return Concat(sa, sb);
        if (a is List<object?> la && b is List<object?> lb)
        {
            RenderBudget.CheckItems((long)la.Count + lb.Count, "a joined list");
            return new List<object?>([.. la, .. lb]);
        }
        if (a is object?[] ta && b is object?[] tb)
        {
            RenderBudget.CheckItems((long)ta.Length + tb.Length, "a joined tuple");
            return (object?[])[.. ta, .. tb];
        }
        if (a is string) throw new TemplateError($"can only concatenate str (not \"{TypeName(b)}\") to str");
        if (a is List<object?>) throw new TemplateError($"can only concatenate list (not \"{TypeName(b)}\") to list");
        if (a is object?[]) throw new TemplateError($"can only concatenate tuple (not \"{TypeName(b)}\") to tuple");
        throw BadOperands("+", a, b);
    }

    public static object? Arith(string op, object? a, object? b)
    {
        if (op == "+") return Add(a, b);
        FailUndefined(a, b);
        if (op == "*" && (IsSequence(a) && b is long or bool || IsSequence(b) && a is long or bool))
        {
            var (seq, times) = IsSequence(a) ? (a, AsLong(b!)) : (b, AsLong(a!));
            long n = Math.Max(times, 0);
            switch (seq)
            {
                case string str:
                    if (str.Length == 0 || n == 0) return "";
                    RenderBudget.CheckString(n > TemplateLimits.MaxStringLength ? n : str.Length * n, "a repeated string");
                    return Repeat(str, (int)n);
                case List<object?> list:
                    if (list.Count == 0 || n == 0) return new List<object?>();
                    RenderBudget.CheckItems(n > TemplateLimits.MaxItems ? n : list.Count * n, "a repeated list");
                    return Enumerable.Range(0, (int)n).SelectMany(_ => list).ToList();
                case object?[] tuple:
                    if (tuple.Length == 0 || n == 0) return Array.Empty<object?>();
                    RenderBudget.CheckItems(n > TemplateLimits.MaxItems ? n : tuple.Length * n, "a repeated tuple");
                    return Enumerable.Range(0, (int)n).SelectMany(_ => tuple).ToArray();
                default:
                    throw BadOperands(op, a, b);
            }
        }
        if (op == "%" && a is string fmt) return PercentFormat(fmt, b);
        if (op == "*" && (IsSequence(a) && !IsNumber(b) || IsSequence(b) && !IsNumber(a)))
            throw new TemplateError($"can't multiply sequence by non-int of type '{TypeName(IsSequence(a) ? b : a)}'");
        if (!IsNumber(a) || !IsNumber(b)) throw BadOperands(op == "**" ? "** or pow()" : op, a, b);
        bool isFloat = a is double || b is double;
        switch (op)
        {
            case "-": return isFloat ? (object)(ToDouble(a) - ToDouble(b)) : (object)Checked(() => checked(AsLong(a!) - AsLong(b!)));
            case "*": return isFloat ? (object)(ToDouble(a) * ToDouble(b)) : (object)Checked(() => checked(AsLong(a!) * AsLong(b!)));
            case "/":
                if (ToDouble(b) == 0) throw new TemplateError(isFloat ? "float division by zero" : "division by zero");
                return ToDouble(a) / ToDouble(b);
            case "//":
                if (ToDouble(b) == 0) throw new TemplateError(isFloat ? "float floor division by zero" : "integer division or modulo by zero");
                if (isFloat) return (object)Math.Floor(ToDouble(a) / ToDouble(b));
                return FloorDiv(AsLong(a!), AsLong(b!));
            case "%":
                if (ToDouble(b) == 0) throw new TemplateError(isFloat ? "float modulo by zero" : "integer modulo by zero");
                if (isFloat)
                {
                    double x = ToDouble(a), y = ToDouble(b);
                    double m = x % y;
                    return (object)(m != 0 && (m < 0) != (y < 0) ? m + y : m);
                }
                long la = AsLong(a!), lb = AsLong(b!);
                return la - FloorDiv(la, lb) * lb;
            case "**":
                if (!isFloat && AsLong(b!) >= 0) return IntPow(AsLong(a!), AsLong(b!));
                return Math.Pow(ToDouble(a), ToDouble(b));
        }
        throw BadOperands(op, a, b);
    }

    // Python ints are unbounded; beyond 64 bits is outside this engine, and says so.
    private static long Checked(Func<long> op)
    {
        try
        {
            return op();
        }
        catch (OverflowException)
        {
            throw new TemplateError("integer overflow: values beyond 64 bits are not supported");
        }
    }

    // Square and multiply: at most 63 squarings whatever the exponent (1 ** 10**18 included).
    private static long IntPow(long bas, long exp)
    {
        long result = 1;
        while (exp > 0)
        {
            if ((exp & 1) != 0) result = Checked(() => checked(result * bas));
            exp >>= 1;
            if (exp > 0) bas = Checked(() => checked(bas * bas));
        }
        return result;
    }

    private static bool IsSequence(object? v) => v is string or List<object?> or object?[];

    private static long FloorDiv(long a, long b)
    {
        long q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
        return q;
    }

    private static string Repeat(string s, long n) => n <= 0 ? "" : new StringBuilder(s.Length * (int)n).Insert(0, s, (int)n).ToString();

    // printf-style formatting: %s %r %d %i %f with optional width and precision.
    private static string PercentFormat(string fmt, object? args)
    {
        var values = args is object?[] t ? t : [args];
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            if (fmt[i] != '%' || i + 1 >= fmt.Length) { sb.Append(fmt[i]); continue; }
            i++;
            if (fmt[i] == '%') { sb.Append('%'); continue; }
            int specStart = i;
            while (i < fmt.Length && (char.IsAsciiDigit(fmt[i]) || fmt[i] is '.' or '-')) i++;
            if (i >= fmt.Length) throw new TemplateError("incomplete format");
            string flags = fmt[specStart..i];
            char spec = fmt[i];
            bool leftAlign = flags.StartsWith('-');
            string[] wp = flags.TrimStart('-').Split('.');
            int width = wp[0].Length > 0 ? FormatNumber(wp[0], "field width") : 0;
            int? precision = wp.Length > 1 ? (wp[1].Length > 0 ? FormatNumber(wp[1], "precision") : 0) : null;
            if (next >= values.Length) throw new TemplateError("not enough arguments for format string");
            object? v = values[next++];
            string piece = spec switch
            {
                's' => precision is int ps ? Str(v)[..Math.Min(ps, Str(v).Length)] : Str(v),
                'r' => Repr(v),
                'd' or 'i' => IsNumber(v) ? ((long)Math.Truncate(ToDouble(v))).ToString(CultureInfo.InvariantCulture)
                    : throw new TemplateError($"%{spec} format: a real number is required, not {TypeName(v)}"),
                'f' or 'F' => IsNumber(v) ? ToDouble(v).ToString("F" + (precision ?? 6).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
                    : throw new TemplateError($"must be real number, not {TypeName(v)}"),
                _ => throw new TemplateError($"unsupported format character '{spec}'"),
            };
            RenderBudget.CheckLength(sb.Length + (long)Math.Max(width, piece.Length), "a '%' formatted string");
            RenderBudget.ChargeChars(Math.Max(width, piece.Length));
            sb.Append(leftAlign ? piece.PadRight(width) : piece.PadLeft(width));
        }
        // CPython skips this check for a lone list or dict argument (they support subscripting).
        if (next < values.Length && args is not (List<object?> or PyDict))
            throw new TemplateError("not all arguments converted during string formatting");
        return sb.ToString();
    }

    private static int FormatNumber(string digits, string what)
    {
        if (digits.Contains('-') || digits.Contains('.')) throw new TemplateError($"unsupported format flags in '%{digits}'");
        long n = digits.Length > 9 ? long.MaxValue : long.Parse(digits, CultureInfo.InvariantCulture);
        return RenderBudget.CheckWidth(n, $"'%' format {what}");
    }

    private static void FailUndefined(object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Fail();
        if (b is Undefined ub) throw ub.Fail();
    }

    private static TemplateError BadOperands(string op, object? a, object? b) =>
        new($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");

    public static object? Negate(object? v) => v switch
    {
        Undefined u => throw u.Fail(),
        long l => (object)(-l),
        double d => (object)(-d),
        bool b => (object)(b ? -1L : 0L),
        _ => throw new TemplateError($"bad operand type for unary -: '{TypeName(v)}'"),
    };

    /// <summary>Python sequence indexing: negative counts from the end; out of range is a miss.</summary>
    public static bool TryIndex(int count, long index, out int resolved)
    {
        long i = index < 0 ? index + count : index;
        resolved = (int)i;
        return i >= 0 && i < count;
    }

    public static List<int> SliceIndices(int count, object? start, object? stop, object? step)
    {
        long st = step is null or Undefined ? 1 : (long)ToDouble(step);
        if (st == 0) throw new TemplateError("slice step cannot be zero");
        long lo, hi;
        if (st > 0)
        {
            lo = Clamp(start, count, 0, 0, count);
            hi = Clamp(stop, count, count, 0, count);
        }
        else
        {
            lo = Clamp(start, count, count - 1, -1, count - 1);
            hi = Clamp(stop, count, -1, -1, count - 1);
        }
        RenderBudget.Charge(count);
        var result = new List<int>();
        if (st > 0) for (long i = lo; i < hi; i += st) result.Add((int)i);
        else for (long i = lo; i > hi; i += st) result.Add((int)i);
        return result;
    }

    private static long Clamp(object? bound, int count, long dflt, long min, long max)
    {
        if (bound is null or Undefined) return dflt;
        long v = (long)ToDouble(bound);
        if (v < 0) v += count;
        return Math.Clamp(v, min, max);
    }
}
