using System.Globalization;
using System.Text;

namespace Retort.Engine.Templates;

/// <summary>
/// Python's json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...), the
/// tojson filter Hugging Face installs; output must match it exactly because templates embed it.
/// </summary>
internal static class PyJson
{
    public static string Dumps(object? value, string? indent, string? itemSep, string? keySep, bool sortKeys, bool ensureAscii = false)
    {
        itemSep ??= indent == null ? ", " : ",";
        keySep ??= ": ";
        var sb = new StringBuilder();
        Write(sb, value, indent, itemSep, keySep, sortKeys, 0);
        RenderBudget.ChargeChars(sb.Length);
        return ensureAscii ? EscapeNonAscii(sb.ToString()) : sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v, string? indent, string itemSep, string keySep, bool sortKeys, int level)
    {
        switch (v)
        {
            case null: sb.Append("null"); return;
            case bool b: sb.Append(b ? "true" : "false"); return;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); return;
            case double d: sb.Append(Float(d)); return;
            case string s: WriteString(sb, s); return;
            case List<object?> list: WriteArray(sb, list, indent, itemSep, keySep, sortKeys, level); return;
            case object?[] tuple: WriteArray(sb, tuple, indent, itemSep, keySep, sortKeys, level); return;
            case PyDict dict:
            {
                if (dict.Count == 0) { sb.Append("{}"); return; }
                RenderBudget.CheckValueDepth(level);
                var pairs = dict.Select(kv => (Key: KeyString(kv.Key), kv.Value)).ToList();
                if (sortKeys) pairs.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
                sb.Append('{');
                for (int i = 0; i < pairs.Count; i++)
                {
                    if (i > 0) sb.Append(itemSep);
                    NewLine(sb, indent, level + 1);
                    WriteString(sb, pairs[i].Key);
                    sb.Append(keySep);
                    Write(sb, pairs[i].Value, indent, itemSep, keySep, sortKeys, level + 1);
                    RenderBudget.CheckLength(sb.Length, "tojson output");
                }
                NewLine(sb, indent, level);
                sb.Append('}');
                return;
            }
            default:
                throw new TemplateError($"Object of type {PyOps.TypeName(v)} is not JSON serializable");
        }
    }

    private static void WriteArray(StringBuilder sb, IReadOnlyList<object?> items, string? indent, string itemSep, string keySep, bool sortKeys, int level)
    {
        if (items.Count == 0) { sb.Append("[]"); return; }
        RenderBudget.CheckValueDepth(level);
        sb.Append('[');
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(itemSep);
            NewLine(sb, indent, level + 1);
            Write(sb, items[i], indent, itemSep, keySep, sortKeys, level + 1);
            RenderBudget.CheckLength(sb.Length, "tojson output");
        }
        NewLine(sb, indent, level);
        sb.Append(']');
    }

    private static void NewLine(StringBuilder sb, string? indent, int level)
    {
        if (indent == null) return;
        RenderBudget.CheckLength(sb.Length + 1 + (long)level * indent.Length, "tojson output");
        sb.Append('\n');
        for (int i = 0; i < level; i++) sb.Append(indent);
    }

    private static string KeyString(object key) => key switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        _ => throw new TemplateError($"keys must be str, int, float, bool or None, not {PyOps.TypeName(key)}"),
    };

    private static string Float(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyOps.FloatRepr(d);

    // ensure_ascii=True: every non-ASCII UTF-16 unit becomes \uXXXX (surrogates stay pairs),
    // which is safe to do after serialization because JSON syntax itself is pure ASCII.
    private static string EscapeNonAscii(string json)
    {
        RenderBudget.CheckString(json.Length + 5L * json.Count(c => c >= 0x80), "tojson output");
        var sb = new StringBuilder(json.Length);
        foreach (char c in json)
        {
            if (c < 0x80) sb.Append(c);
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
