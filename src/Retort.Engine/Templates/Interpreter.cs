using System.Text;

namespace Retort.Engine.Templates;

/// <summary>
/// Variable scope with Jinja2's rules: for-loop bodies and macros get their own scope (so `set`
/// inside them does not leak out), if-blocks do not.
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public Scope? Parent { get; } = parent;

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s != null; s = s.Parent)
            if (s._vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;
}

/// <summary>Walks the AST and writes output.</summary>
internal sealed class Interpreter
{
    private enum Signal { None, Break, Continue }

    private int _loopDepth;
    private int _callDepth;

    // Nesting of Exec and Eval calls in progress, bounded so that no template (recursive macros
    // included) can take the machine stack down with the process.
    private int _depth;

    public static string Render(List<Stmt> body, Scope globals)
    {
        using var budget = RenderBudget.Begin();
        var sb = new StringBuilder();
        new Interpreter().Exec(body, new Scope(globals), sb);
        return sb.ToString();
    }

    private void Enter()
    {
        if (++_depth > TemplateLimits.MaxRenderDepth)
            throw new TemplateError($"rendering nests more than {TemplateLimits.MaxRenderDepth} levels of blocks, expressions and macro calls (the limit)");
        RenderBudget.EnsureStack();
        RenderBudget.Charge(1);
    }

    // Every piece of output goes through here, so no render grows past the string limit.
    private static void Write(StringBuilder sb, string text)
    {
        if (sb.Length + (long)text.Length > TemplateLimits.MaxStringLength)
            RenderBudget.CheckString(sb.Length + (long)text.Length, "the rendered text");
        RenderBudget.ChargeChars(text.Length);
        sb.Append(text);
    }

    private Signal Exec(List<Stmt> body, Scope scope, StringBuilder sb)
    {
        Enter();
        try
        {
            return ExecBody(body, scope, sb);
        }
        finally
        {
            _depth--;
        }
    }

    private Signal ExecBody(List<Stmt> body, Scope scope, StringBuilder sb)
    {
        foreach (var stmt in body)
        {
            Signal sig;
            try
            {
                RenderBudget.Charge(1);
                sig = ExecOne(stmt, scope, sb);
            }
            catch (TemplateError e) when (!e.HasLocation)
            {
                throw e.At(stmt.Line, stmt.Column);
            }
            catch (Exception e) when (e is InvalidCastException or ArgumentException or IndexOutOfRangeException
                or FormatException or OverflowException or NullReferenceException or KeyNotFoundException)
            {
                // A gap in this engine's Python emulation, not a template bug: still one located line.
                throw new TemplateError($"internal error ({e.GetType().Name}): {e.Message}", stmt.Line, stmt.Column);
            }
            if (sig != Signal.None) return sig;
        }
        return Signal.None;
    }

    private Signal ExecOne(Stmt stmt, Scope scope, StringBuilder sb)
    {
        switch (stmt)
        {
            case DataStmt d:
                Write(sb, d.Text);
                return Signal.None;
            case EmitStmt e:
                Write(sb, PyOps.Str(Eval(e.Value, scope)));
                return Signal.None;
            case IfStmt i:
                foreach (var (test, branch) in i.Branches)
                    if (PyOps.Truthy(Eval(test, scope))) return Exec(branch, scope, sb);
                return i.Else != null ? Exec(i.Else, scope, sb) : Signal.None;
            case ForStmt f:
                ExecFor(f, scope, sb);
                return Signal.None;
            case SetStmt s:
                Assign(s.Target, Eval(s.Value, scope), scope);
                return Signal.None;
            case SetBlockStmt sbk:
            {
                var inner = new StringBuilder();
                Exec(sbk.Body, scope, inner);
                object? value = inner.ToString();
                foreach (var f in sbk.Filters) value = ApplyFilter(f, value, scope);
                Assign(sbk.Target, value, scope);
                return Signal.None;
            }
            case MacroStmt m:
                scope.Set(m.Name, MakeMacro(m.Name, m.Params, m.Body, scope));
                return Signal.None;
            case CallBlockStmt c:
            {
                var caller = MakeMacro("caller", c.CallerParams, c.Body, scope);
                var callee = Eval(c.Call.Callee, scope);
                var (args, kwargs) = EvalArgs(c.Call.Args, scope);
                kwargs["caller"] = caller;
                Write(sb, PyOps.Str(Invoke(callee, args, kwargs, c.Call)));
                return Signal.None;
            }
            case FilterBlockStmt fb:
            {
                var inner = new StringBuilder();
                Exec(fb.Body, scope, inner);
                object? value = inner.ToString();
                foreach (var f in fb.Filters) value = ApplyFilter(f, value, scope);
                Write(sb, PyOps.Str(value));
                return Signal.None;
            }
            case GenerationStmt g:
                return Exec(g.Body, scope, sb);
            case BreakStmt:
                return Signal.Break;
            case ContinueStmt:
                return Signal.Continue;
        }
        throw new TemplateError($"unsupported statement {stmt.GetType().Name}");
    }

    private void ExecFor(ForStmt f, Scope scope, StringBuilder sb)
    {
        var source = PyOps.Iterate(Eval(f.Iterable, scope));
        var items = source;
        if (f.Filter != null)
        {
            // The loop filter sees each item bound to the targets, before loop.* exists.
            items = [];
            foreach (var item in source)
            {
                RenderBudget.Charge(1);
                var probe = new Scope(scope);
                Bind(f, item, probe);
                if (PyOps.Truthy(Eval(f.Filter, probe))) items.Add(item);
            }
        }
        if (items.Count == 0)
        {
            if (f.Else != null) Exec(f.Else, scope, sb);
            return;
        }
        var loop = new LoopInfo(items, ++_loopDepth);
        try
        {
            for (int i = 0; i < items.Count; i++)
            {
                RenderBudget.Charge(1);
                loop.Index0 = i;
                var body = new Scope(scope);
                body.Set("loop", loop);
                Bind(f, items[i], body);
                if (Exec(f.Body, body, sb) == Signal.Break) break;
            }
        }
        finally
        {
            _loopDepth--;
        }
    }

    private static void Bind(ForStmt f, object? item, Scope scope)
    {
        if (!f.Unpack)
        {
            scope.Set(f.Targets[0], item);
            return;
        }
        var parts = PyOps.Iterate(item);
        if (parts.Count != f.Targets.Count)
            throw new TemplateError(parts.Count > f.Targets.Count
                ? $"too many values to unpack (expected {f.Targets.Count})"
                : $"not enough values to unpack (expected {f.Targets.Count}, got {parts.Count})");
        for (int i = 0; i < parts.Count; i++) scope.Set(f.Targets[i], parts[i]);
    }

    private void Assign(Expr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr n:
                scope.Set(n.Name, value);
                return;
            case AttrExpr { Target: NameExpr owner } a:
                if (!scope.TryGet(owner.Name, out var obj) || obj is not Namespace ns)
                    throw new TemplateError($"cannot assign attribute on non-namespace object '{owner.Name}'").At(a.Line, a.Column);
                ns.Attributes[a.Name] = value;
                return;
            case TupleExpr t:
            {
                var parts = PyOps.Iterate(value);
                if (parts.Count != t.Items.Count)
                    throw new TemplateError($"cannot unpack {parts.Count} values into {t.Items.Count} names");
                for (int i = 0; i < parts.Count; i++) Assign(t.Items[i], parts[i], scope);
                return;
            }
        }
        throw new TemplateError("unsupported assignment target");
    }

    private Callable MakeMacro(string name, List<MacroParam> ps, List<Stmt> body, Scope defining)
    {
        return new Callable(name, (args, kwargs) =>
        {
            var local = new Scope(defining);
            if (args.Count > ps.Count) throw new TemplateError($"macro '{name}' takes not more than {ps.Count} argument(s)");
            for (int i = 0; i < ps.Count; i++)
            {
                object? v;
                if (i < args.Count) v = args[i];
                else if (kwargs.Remove(ps[i].Name, out var kv)) v = kv;
                else if (ps[i].Default != null) v = Eval(ps[i].Default!, local);
                else v = new Undefined($"parameter '{ps[i].Name}' was not provided");
                local.Set(ps[i].Name, v);
            }
            if (kwargs.Remove("caller", out var caller)) local.Set("caller", caller);
            if (kwargs.Count > 0) throw new TemplateError($"macro '{name}' takes no keyword argument '{kwargs.Keys.First()}'");
            var sb = new StringBuilder();
            int saved = _loopDepth;
            _loopDepth = 0;
            if (++_callDepth > TemplateLimits.MaxMacroDepth)
            {
                _callDepth = 0;
                throw new TemplateError($"macros call each other more than {TemplateLimits.MaxMacroDepth} levels deep (the limit), in '{name}'");
            }
            try
            {
                Exec(body, local, sb);
            }
            finally
            {
                _loopDepth = saved;
                _callDepth = Math.Max(0, _callDepth - 1);
            }
            return sb.ToString();
        });
    }

    // Expressions ------------------------------------------------------------------------------

    public object? Eval(Expr e, Scope scope)
    {
        Enter();
        try
        {
            return EvalNode(e, scope);
        }
        finally
        {
            _depth--;
        }
    }

    private object? EvalNode(Expr e, Scope scope)
    {
        switch (e)
        {
            case LiteralExpr l: return l.Value;
            case NameExpr n:
                return scope.TryGet(n.Name, out var v) ? v : new Undefined($"'{n.Name}' is undefined");
            case ListExpr l: return l.Items.Select(x => Eval(x, scope)).ToList();
            case TupleExpr t: return t.Items.Select(x => Eval(x, scope)).ToArray();
            case DictExpr d:
            {
                var dict = new PyDict();
                foreach (var (k, val) in d.Pairs)
                {
                    var key = Eval(k, scope);
                    if (key is null or Undefined or List<object?> or PyDict) throw new TemplateError($"unsupported dict key of type '{PyOps.TypeName(key)}'").At(k.Line, k.Column);
                    dict[key] = Eval(val, scope);
                }
                return dict;
            }
            case AttrExpr a: return Located(a, () => Access.GetAttr(Eval(a.Target, scope), a.Name));
            case ItemExpr i:
            {
                var target = Eval(i.Target, scope);
                var index = Eval(i.Index, scope);
                return Located(i, () => Access.GetItem(target, index));
            }
            case SliceExpr s:
            {
                var target = Eval(s.Target, scope);
                object? start = s.Start == null ? null : Eval(s.Start, scope);
                object? stop = s.Stop == null ? null : Eval(s.Stop, scope);
                object? step = s.Step == null ? null : Eval(s.Step, scope);
                return Located(s, () => Access.Slice(target, start, stop, step));
            }
            case CallExpr c:
            {
                var callee = Eval(c.Callee, scope);
                var (args, kwargs) = EvalArgs(c.Args, scope);
                return Invoke(callee, args, kwargs, c);
            }
            case FilterExpr f: return ApplyFilter(f, Eval(f.Value!, scope), scope);
            case TestExpr t:
            {
                var value = Eval(t.Value, scope);
                var (args, kwargs) = EvalArgs(t.Args, scope);
                bool r = Located(t, () => JinjaTests.Apply(t.Name, value, args, kwargs));
                return t.Negated ? !r : r;
            }
            case BinaryExpr b:
            {
                var left = Eval(b.Left, scope);
                var right = Eval(b.Right, scope);
                if (b.Op == "~") return PyOps.Concat(PyOps.Str(left), PyOps.Str(right));
                return Located(b, () => PyOps.Arith(b.Op, left, right));
            }
            case NegExpr n:
            {
                var v2 = Eval(n.Operand, scope);
                if (!n.Minus) return v2 is Undefined u ? throw u.Fail().At(n.Line, n.Column) : v2;
                return Located(n, () => PyOps.Negate(v2));
            }
            case NotExpr n: return !PyOps.Truthy(Eval(n.Operand, scope));
            case AndOrExpr ao:
            {
                var left = Eval(ao.Left, scope);
                if (ao.IsAnd) return PyOps.Truthy(left) ? Eval(ao.Right, scope) : left;
                return PyOps.Truthy(left) ? left : Eval(ao.Right, scope);
            }
            case CompareExpr c:
            {
                var left = Eval(c.First, scope);
                foreach (var (op, operandExpr) in c.Rest)
                {
                    var right = Eval(operandExpr, scope);
                    bool ok = Located(c, () => op switch
                    {
                        "==" => PyOps.Eq(left, right),
                        "!=" => !PyOps.Eq(left, right),
                        "<" => PyOps.Compare(left, right, op) < 0,
                        ">" => PyOps.Compare(left, right, op) > 0,
                        "<=" => PyOps.Compare(left, right, op) <= 0,
                        ">=" => PyOps.Compare(left, right, op) >= 0,
                        "in" => PyOps.Contains(right, left),
                        _ => !PyOps.Contains(right, left),
                    });
                    if (!ok) return false;
                    left = right;
                }
                return true;
            }
            case CondExpr c:
                if (PyOps.Truthy(Eval(c.Test, scope))) return Eval(c.Then, scope);
                return c.Else != null ? Eval(c.Else, scope) : new Undefined("the inline if-expression evaluated to false and no else section was defined");
        }
        throw new TemplateError($"unsupported expression {e.GetType().Name}").At(e.Line, e.Column);
    }

    private static T Located<T>(Expr e, Func<T> f)
    {
        try
        {
            return f();
        }
        catch (TemplateError err) when (!err.HasLocation)
        {
            throw err.At(e.Line, e.Column);
        }
    }

    private (List<object?> Args, Dictionary<string, object?> Kwargs) EvalArgs(Arguments a, Scope scope)
    {
        var args = a.Positional.Select(x => Eval(x, scope)).ToList();
        var kwargs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in a.Named) kwargs[name] = Eval(value, scope);
        return (args, kwargs);
    }

    private object? ApplyFilter(FilterExpr f, object? value, Scope scope)
    {
        var (args, kwargs) = EvalArgs(f.Args, scope);
        return Located(f, () => JinjaFilters.Apply(f.Name, value, args, kwargs));
    }

    private static object? Invoke(object? callee, List<object?> args, Dictionary<string, object?> kwargs, Expr at)
    {
        return Located(at, () => callee switch
        {
            Callable c => c.Function(args, kwargs),
            Undefined u => throw u.Fail(),
            _ => throw new TemplateError($"'{PyOps.TypeName(callee)}' object is not callable"),
        });
    }
}
