using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Retort.Engine.Templates;

/// <summary>
/// The globals Hugging Face's environment provides (Jinja2's range, dict, namespace plus
/// raise_exception and strftime_now) and the conversion of .NET values into template values.
/// </summary>
internal static class TemplateGlobals
{
    public static void AddTo(Scope scope)
    {
        scope.Set("range", new Callable("range", Range));
        scope.Set("dict", new Callable("dict", (args, kwargs) =>
        {
            var d = new PyDict();
            if (args.Count > 1) throw new TemplateError("dict expected at most 1 argument");
            if (args.Count == 1)
            {
                if (args[0] is PyDict src) foreach (var kv in src) d[kv.Key] = kv.Value;
                else foreach (var pair in PyOps.Iterate(args[0]))
                {
                    var kv = PyOps.Iterate(pair);
                    if (kv.Count != 2 || kv[0] is null) throw new TemplateError("dict() sequence elements must be pairs");
                    d[kv[0]!] = kv[1];
                }
            }
            foreach (var kv in kwargs) d[kv.Key] = kv.Value;
            return d;
        }));
        scope.Set("namespace", new Callable("namespace", (args, kwargs) =>
        {
            var ns = new Namespace();
            foreach (var a in args)
            {
                if (a is not PyDict d) throw new TemplateError("namespace() positional argument must be a mapping");
                foreach (var kv in d) ns.Attributes[PyOps.Str(kv.Key)] = kv.Value;
            }
            foreach (var kv in kwargs) ns.Attributes[kv.Key] = kv.Value;
            return ns;
        }));
        scope.Set("raise_exception", new Callable("raise_exception", (args, _) =>
            throw new TemplateRaise(args.Count > 0 ? PyOps.Str(args[0]) : "raise_exception called")));
        // Jinja2 defines these too; a template calling them must hear they are unsupported here,
        // not that they are undefined.
        foreach (string name in new[] { "lipsum", "cycler", "joiner" })
            scope.Set(name, new Callable(name, (_, _) => throw new TemplateError($"unsupported global function '{name}'")));
        scope.Set("strftime_now", new Callable("strftime_now", (args, _) =>
            Strftime(DateTime.Now, args.Count > 0 ? PyOps.Str(args[0]) : "")));
    }

    private static object? Range(List<object?> args, Dictionary<string, object?> kwargs)
    {
        if (kwargs.Count > 0) throw new TemplateError("range() takes no keyword arguments");
        long[] n = args.Select(a => a is long or bool ? (long)PyOps.ToDouble(a)
            : throw new TemplateError($"'{PyOps.TypeName(a)}' object cannot be interpreted as an integer")).ToArray();
        long start = 0, stop, step = 1;
        switch (n.Length)
        {
            case 1: stop = n[0]; break;
            case 2: start = n[0]; stop = n[1]; break;
            case 3: start = n[0]; stop = n[1]; step = n[2]; break;
            default: throw new TemplateError($"range expected 1 to 3 arguments, got {n.Length}");
        }
        if (step == 0) throw new TemplateError("range() arg 3 must not be zero");
        var list = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            // The sandbox caps ranges at MAX_RANGE (100000) items.
            if (list.Count >= 100_000) throw new TemplateError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
            list.Add(i);
        }
        RenderBudget.Charge(list.Count);
        return list;
    }

    /// <summary>Python's strftime for the C locale, the directives date templates use.</summary>
    public static string Strftime(DateTime t, string format)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            char c = format[++i];
            sb.Append(c switch
            {
                'd' => t.Day.ToString("00", ci),
                'm' => t.Month.ToString("00", ci),
                'Y' => t.Year.ToString("0000", ci),
                'y' => (t.Year % 100).ToString("00", ci),
                'H' => t.Hour.ToString("00", ci),
                'I' => ((t.Hour + 11) % 12 + 1).ToString("00", ci),
                'M' => t.Minute.ToString("00", ci),
                'S' => t.Second.ToString("00", ci),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'b' => t.ToString("MMM", ci),
                'B' => t.ToString("MMMM", ci),
                'a' => t.ToString("ddd", ci),
                'A' => t.ToString("dddd", ci),
                'j' => t.DayOfYear.ToString("000", ci),
                'e' => t.Day.ToString(ci).PadLeft(2),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", ci),
                'w' => ((int)t.DayOfWeek).ToString(ci),
                '%' => "%",
                _ => throw new TemplateError($"unsupported strftime directive '%{c}'"),
            });
        }
        return sb.ToString();
    }

    /// <summary>Turns caller-supplied .NET values into the Python-like values templates use.</summary>
    public static object? FromClr(object? v)
    {
        switch (v)
        {
            case null: return null;
            case string or bool or long or double: return v;
            case int or short or byte or sbyte or ushort or uint: return Convert.ToInt64(v, CultureInfo.InvariantCulture);
            case ulong u: return checked((long)u);
            case float f: return (double)f;
            case decimal m: return (double)m;
            case char ch: return ch.ToString();
            case ChatMessage msg: return FromMessage(msg);
            case ChatToolCall call: return FromToolCall(call);
            case PyDict or Namespace or Callable: return v;
            case JsonElement json: return FromJson(json);
            case JsonNode node: return FromJson(JsonSerializer.SerializeToElement(node, JsonNodeContext.Default.JsonNode));
            case IDictionary dict:
            {
                var d = new PyDict();
                foreach (DictionaryEntry kv in dict) d[FromClr(kv.Key) ?? throw new RetortException("template variable: dictionary keys must not be null")] = FromClr(kv.Value);
                return d;
            }
            case IEnumerable<KeyValuePair<string, object?>> pairs:
            {
                var d = new PyDict();
                foreach (var kv in pairs) d[kv.Key] = FromClr(kv.Value);
                return d;
            }
            case IEnumerable seq:
            {
                var l = new List<object?>();
                foreach (var x in seq) l.Add(FromClr(x));
                return l;
            }
        }
        throw new RetortException($"template variable of type {v.GetType().Name} is not supported: use strings, numbers, booleans, lists and dictionaries");
    }

    // Tools and arguments often arrive as parsed JSON; numbers keep Python's int/float split.
    private static object? FromJson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Null:
            case JsonValueKind.Undefined: return null;
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number:
                string raw = e.GetRawText();
                if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && e.TryGetInt64(out long l)) return l;
                return e.GetDouble();
            case JsonValueKind.Array:
                return e.EnumerateArray().Select(FromJson).ToList();
            default:
                var d = new PyDict();
                foreach (var p in e.EnumerateObject()) d[p.Name] = FromJson(p.Value);
                return d;
        }
    }

    public static PyDict FromMessage(ChatMessage m)
    {
        var d = new PyDict { ["role"] = m.Role, ["content"] = m.Content };
        if (m.ReasoningContent != null) d["reasoning_content"] = m.ReasoningContent;
        if (m.ToolCalls != null) d["tool_calls"] = m.ToolCalls.Select(c => (object?)FromToolCall(c)).ToList();
        if (m.Name != null) d["name"] = m.Name;
        if (m.ToolCallId != null) d["tool_call_id"] = m.ToolCallId;
        return d;
    }

    private static PyDict FromToolCall(ChatToolCall c)
    {
        var d = new PyDict();
        if (c.Id != null) d["id"] = c.Id;
        d["type"] = c.Type;
        d["function"] = new PyDict { ["name"] = c.Name, ["arguments"] = FromClr(c.Arguments) };
        return d;
    }
}
