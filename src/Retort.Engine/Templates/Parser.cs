using System.Text;

namespace Retort.Engine.Templates;

/// <summary>
/// Recursive-descent parser for the Jinja2 subset, with Jinja2's operator precedence: filters and
/// tests bind tightest, then unary minus, **, * / // %, ~, + -, comparisons, not, and, or, if-else.
/// </summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private int _pos;
    private int _loopDepth;

    // How deep the tree being built is, counting each link of a chain (a ~ b ~ c, x.a.b, x|f|g)
    // as a level, since the interpreter recurses once per link.
    private int _depth;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static List<Stmt> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        var (body, end) = parser.ParseBody([]);
        if (end != null) throw Error(parser.Peek, $"unexpected '{end}'");
        return body;
    }

    private Token Peek => _tokens[_pos];

    private Token PeekAt(int offset) => _tokens[Math.Min(_pos + offset, _tokens.Count - 1)];

    private Token Next() => _tokens[_pos++];

    private static TemplateError Error(Token t, string message) => new(message, t.Line, t.Column);

    // One level deeper, refused past the nesting limit; callers give the levels back with Rise.
    private void Deepen(Token at)
    {
        if (++_depth > TemplateLimits.MaxNesting)
            throw Error(at, $"the template nests expressions and blocks more than {TemplateLimits.MaxNesting} levels deep (the limit)");
        RenderBudget.EnsureStack();
    }

    private void Rise(int levels) => _depth -= levels;

    private Token Expect(TokenKind kind, string? value = null)
    {
        var t = Peek;
        if (t.Kind != kind || (value != null && t.Value != value))
        {
            string wanted = value ?? kind.ToString();
            string found = t.Kind == TokenKind.Eof ? "end of template" : $"'{t.Value}'";
            throw Error(t, $"expected '{wanted}', found {found}");
        }
        return Next();
    }

    private bool Accept(TokenKind kind, string value)
    {
        if (!Peek.Is(kind, value)) return false;
        _pos++;
        return true;
    }

    private static readonly HashSet<string> EndTags =
        ["endif", "elif", "else", "endfor", "endmacro", "endcall", "endfilter", "endset", "endgeneration"];

    // Parses statements until one of endTags opens a block; returns that tag (its name consumed).
    private (List<Stmt> Body, string? End) ParseBody(string[] endTags)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var t = Peek;
            switch (t.Kind)
            {
                case TokenKind.Eof:
                    if (endTags.Length > 0) throw Error(t, $"unexpected end of template, expected '{endTags[^1]}'");
                    return (body, null);
                case TokenKind.Data:
                    body.Add(new DataStmt(t.Value, t.Line, t.Column));
                    _pos++;
                    break;
                case TokenKind.VarBegin:
                    _pos++;
                    var e = ParseExpression();
                    Expect(TokenKind.VarEnd);
                    body.Add(new EmitStmt(e, t.Line, t.Column));
                    break;
                case TokenKind.BlockBegin:
                    var name = PeekAt(1);
                    if (name.Kind != TokenKind.Name) throw Error(name, "expected a tag name after '{%'");
                    if (EndTags.Contains(name.Value))
                    {
                        if (Array.IndexOf(endTags, name.Value) < 0) throw Error(name, $"unexpected '{name.Value}'");
                        _pos += 2;
                        return (body, name.Value);
                    }
                    _pos += 2;
                    Deepen(name);
                    body.Add(ParseStatement(name));
                    Rise(1);
                    break;
                default:
                    throw Error(t, $"unexpected '{t.Value}'");
            }
        }
    }

    private Stmt ParseStatement(Token tag)
    {
        switch (tag.Value)
        {
            case "if": return ParseIf(tag);
            case "for": return ParseFor(tag);
            case "set": return ParseSet(tag);
            case "macro": return ParseMacro(tag);
            case "call": return ParseCallBlock(tag);
            case "filter":
            {
                var filters = ParseFilterChain(null);
                Expect(TokenKind.BlockEnd);
                var (body, _) = ParseBody(["endfilter"]);
                Expect(TokenKind.BlockEnd);
                return new FilterBlockStmt(filters, body, tag.Line, tag.Column);
            }
            case "generation":
            {
                Expect(TokenKind.BlockEnd);
                var (body, _) = ParseBody(["endgeneration"]);
                Expect(TokenKind.BlockEnd);
                return new GenerationStmt(body, tag.Line, tag.Column);
            }
            case "break":
            case "continue":
                if (_loopDepth == 0) throw Error(tag, $"'{tag.Value}' outside of a for loop");
                Expect(TokenKind.BlockEnd);
                return tag.Value == "break" ? new BreakStmt(tag.Line, tag.Column) : new ContinueStmt(tag.Line, tag.Column);
            default:
                throw Error(tag, $"unsupported template tag '{tag.Value}'");
        }
    }

    private IfStmt ParseIf(Token tag)
    {
        var branches = new List<(Expr, List<Stmt>)>();
        List<Stmt>? elseBody = null;
        var test = ParseExpression();
        Expect(TokenKind.BlockEnd);
        while (true)
        {
            var (body, end) = ParseBody(["elif", "else", "endif"]);
            branches.Add((test, body));
            if (end == "elif")
            {
                test = ParseExpression();
                Expect(TokenKind.BlockEnd);
                continue;
            }
            Expect(TokenKind.BlockEnd);
            if (end == "else")
            {
                (elseBody, _) = ParseBody(["endif"]);
                Expect(TokenKind.BlockEnd);
            }
            break;
        }
        return new IfStmt(branches, elseBody, tag.Line, tag.Column);
    }

    private ForStmt ParseFor(Token tag)
    {
        var targets = new List<string>();
        bool paren = Accept(TokenKind.Op, "(");
        targets.Add(Expect(TokenKind.Name).Value);
        bool unpack = paren;
        while (Accept(TokenKind.Op, ","))
        {
            unpack = true;
            if (Peek.Kind != TokenKind.Name) break;
            targets.Add(Expect(TokenKind.Name).Value);
        }
        if (paren) Expect(TokenKind.Op, ")");
        Expect(TokenKind.Name, "in");
        var iterable = ParseTernaryFree();
        Expr? filter = null;
        if (Peek.IsName("if"))
        {
            _pos++;
            filter = ParseTernaryFree();
        }
        if (Peek.IsName("recursive")) throw Error(Peek, "unsupported for-loop option 'recursive'");
        Expect(TokenKind.BlockEnd);
        _loopDepth++;
        var (body, end) = ParseBody(["else", "endfor"]);
        _loopDepth--;
        Expect(TokenKind.BlockEnd);
        List<Stmt>? elseBody = null;
        if (end == "else")
        {
            (elseBody, _) = ParseBody(["endfor"]);
            Expect(TokenKind.BlockEnd);
        }
        return new ForStmt(targets, unpack, iterable, filter, body, elseBody, tag.Line, tag.Column);
    }

    private Stmt ParseSet(Token tag)
    {
        var first = Expect(TokenKind.Name);
        Expr target;
        if (Accept(TokenKind.Op, "."))
        {
            var attr = Expect(TokenKind.Name);
            target = new AttrExpr(new NameExpr(first.Value, first.Line, first.Column), attr.Value, attr.Line, attr.Column);
        }
        else
        {
            var names = new List<Expr> { new NameExpr(first.Value, first.Line, first.Column) };
            bool tuple = false;
            while (Accept(TokenKind.Op, ","))
            {
                tuple = true;
                var n = Expect(TokenKind.Name);
                names.Add(new NameExpr(n.Value, n.Line, n.Column));
            }
            target = tuple ? new TupleExpr(names, first.Line, first.Column) : names[0];
        }
        if (Accept(TokenKind.Op, "="))
        {
            var value = ParseTuple();
            Expect(TokenKind.BlockEnd);
            return new SetStmt(target, value, tag.Line, tag.Column);
        }
        var filters = Accept(TokenKind.Op, "|") ? ParseFilterChain(null) : [];
        Expect(TokenKind.BlockEnd);
        var (body, _) = ParseBody(["endset"]);
        Expect(TokenKind.BlockEnd);
        return new SetBlockStmt(target, filters, body, tag.Line, tag.Column);
    }

    private List<MacroParam> ParseParams()
    {
        var list = new List<MacroParam>();
        Expect(TokenKind.Op, "(");
        while (!Peek.IsOp(")"))
        {
            if (list.Count > 0) Expect(TokenKind.Op, ",");
            if (Peek.IsOp(")")) break;
            var name = Expect(TokenKind.Name).Value;
            Expr? dflt = Accept(TokenKind.Op, "=") ? ParseExpression() : null;
            list.Add(new MacroParam(name, dflt));
        }
        Expect(TokenKind.Op, ")");
        return list;
    }

    private MacroStmt ParseMacro(Token tag)
    {
        var name = Expect(TokenKind.Name).Value;
        var ps = ParseParams();
        Expect(TokenKind.BlockEnd);
        int saved = _loopDepth;
        _loopDepth = 0;
        var (body, _) = ParseBody(["endmacro"]);
        _loopDepth = saved;
        if (Peek.Kind == TokenKind.Name && Peek.Value == name) _pos++;
        Expect(TokenKind.BlockEnd);
        return new MacroStmt(name, ps, body, tag.Line, tag.Column);
    }

    private CallBlockStmt ParseCallBlock(Token tag)
    {
        var callerParams = Peek.IsOp("(") ? ParseParams() : [];
        var call = ParseExpression();
        if (call is not CallExpr ce) throw Error(tag, "expected a macro call after 'call'");
        Expect(TokenKind.BlockEnd);
        var (body, _) = ParseBody(["endcall"]);
        Expect(TokenKind.BlockEnd);
        return new CallBlockStmt(ce, callerParams, body, tag.Line, tag.Column);
    }

    // Expressions ------------------------------------------------------------------------------

    // A bare comma list (a, b) becomes a tuple, as in `set x = 1, 2`.
    private Expr ParseTuple()
    {
        var first = Peek;
        var e = ParseExpression();
        if (!Peek.IsOp(",")) return e;
        var items = new List<Expr> { e };
        while (Accept(TokenKind.Op, ","))
        {
            if (Peek.Kind is TokenKind.BlockEnd or TokenKind.VarEnd) break;
            items.Add(ParseExpression());
        }
        return new TupleExpr(items, first.Line, first.Column);
    }

    public Expr ParseExpression()
    {
        var first = Peek;
        Deepen(first);
        int links = 1;
        var e = ParseOr();
        while (Peek.IsName("if"))
        {
            Deepen(Next());
            links++;
            var test = ParseOr();
            Expr? otherwise = null;
            if (Accept(TokenKind.Name, "else")) otherwise = ParseExpression();
            e = new CondExpr(test, e, otherwise, first.Line, first.Column);
        }
        Rise(links);
        return e;
    }

    // The iterable of a for loop may not be a ternary: its `if` starts the loop filter.
    private Expr ParseTernaryFree() => ParseOr();

    private Expr ParseOr()
    {
        var left = ParseAnd();
        int links = 0;
        while (Peek.IsName("or"))
        {
            var t = Next();
            Deepen(t);
            links++;
            left = new AndOrExpr(false, left, ParseAnd(), t.Line, t.Column);
        }
        Rise(links);
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        int links = 0;
        while (Peek.IsName("and"))
        {
            var t = Next();
            Deepen(t);
            links++;
            left = new AndOrExpr(true, left, ParseNot(), t.Line, t.Column);
        }
        Rise(links);
        return left;
    }

    private Expr ParseNot()
    {
        if (Peek.IsName("not"))
        {
            var t = Next();
            Deepen(t);
            var operand = ParseNot();
            Rise(1);
            return new NotExpr(operand, t.Line, t.Column);
        }
        return ParseCompare();
    }

    private static readonly HashSet<string> CompareOps = ["==", "!=", "<", ">", "<=", ">="];

    private Expr ParseCompare()
    {
        var first = Peek;
        var left = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            var t = Peek;
            if (t.Kind == TokenKind.Op && CompareOps.Contains(t.Value))
            {
                _pos++;
                rest.Add((t.Value, ParseMath1()));
            }
            else if (t.IsName("in"))
            {
                _pos++;
                rest.Add(("in", ParseMath1()));
            }
            else if (t.IsName("not") && PeekAt(1).IsName("in"))
            {
                _pos += 2;
                rest.Add(("notin", ParseMath1()));
            }
            else break;
        }
        return rest.Count == 0 ? left : new CompareExpr(left, rest, first.Line, first.Column);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        int links = 0;
        while (Peek.IsOp("+") || Peek.IsOp("-"))
        {
            var t = Next();
            Deepen(t);
            links++;
            left = new BinaryExpr(t.Value, left, ParseConcat(), t.Line, t.Column);
        }
        Rise(links);
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        int links = 0;
        while (Peek.IsOp("~"))
        {
            var t = Next();
            Deepen(t);
            links++;
            left = new BinaryExpr("~", left, ParseMath2(), t.Line, t.Column);
        }
        Rise(links);
        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        int links = 0;
        while (Peek.IsOp("*") || Peek.IsOp("/") || Peek.IsOp("//") || Peek.IsOp("%"))
        {
            var t = Next();
            Deepen(t);
            links++;
            left = new BinaryExpr(t.Value, left, ParsePow(), t.Line, t.Column);
        }
        Rise(links);
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(true);
        int links = 0;
        while (Peek.IsOp("**"))
        {
            var t = Next();
            Deepen(t);
            links++;
            left = new BinaryExpr("**", left, ParseUnary(true), t.Line, t.Column);
        }
        Rise(links);
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var t = Peek;
        Expr node;
        if (t.IsOp("-") || t.IsOp("+"))
        {
            _pos++;
            Deepen(t);
            node = new NegExpr(ParseUnary(false), t.Value == "-", t.Line, t.Column);
            Rise(1);
        }
        else
        {
            node = ParsePostfix(ParsePrimary());
        }
        return withFilter ? ParseFilterAndTests(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, t.Line, t.Column),
                    "false" or "False" => new LiteralExpr(false, t.Line, t.Column),
                    "none" or "None" => new LiteralExpr(null, t.Line, t.Column),
                    _ => new NameExpr(t.Value, t.Line, t.Column),
                };
            case TokenKind.String:
            {
                if (Peek.Kind != TokenKind.String) return new LiteralExpr(t.Value, t.Line, t.Column);
                // Adjacent literals join ('a' 'b' is 'ab'); a builder keeps a long run linear.
                var joined = new StringBuilder(t.Value);
                while (Peek.Kind == TokenKind.String) joined.Append(Next().Value);
                return new LiteralExpr(joined.ToString(), t.Line, t.Column);
            }
            case TokenKind.Int:
            case TokenKind.Float:
                return new LiteralExpr(t.Literal, t.Line, t.Column);
            case TokenKind.Op when t.Value == "(":
            {
                if (Accept(TokenKind.Op, ")")) return new TupleExpr([], t.Line, t.Column);
                var e = ParseExpression();
                if (Peek.IsOp(","))
                {
                    var items = new List<Expr> { e };
                    while (Accept(TokenKind.Op, ","))
                    {
                        if (Peek.IsOp(")")) break;
                        items.Add(ParseExpression());
                    }
                    e = new TupleExpr(items, t.Line, t.Column);
                }
                Expect(TokenKind.Op, ")");
                return e;
            }
            case TokenKind.Op when t.Value == "[":
            {
                var items = new List<Expr>();
                while (!Peek.IsOp("]"))
                {
                    if (items.Count > 0) Expect(TokenKind.Op, ",");
                    if (Peek.IsOp("]")) break;
                    items.Add(ParseExpression());
                }
                Expect(TokenKind.Op, "]");
                return new ListExpr(items, t.Line, t.Column);
            }
            case TokenKind.Op when t.Value == "{":
            {
                var pairs = new List<(Expr, Expr)>();
                while (!Peek.IsOp("}"))
                {
                    if (pairs.Count > 0) Expect(TokenKind.Op, ",");
                    if (Peek.IsOp("}")) break;
                    var k = ParseExpression();
                    Expect(TokenKind.Op, ":");
                    pairs.Add((k, ParseExpression()));
                }
                Expect(TokenKind.Op, "}");
                return new DictExpr(pairs, t.Line, t.Column);
            }
        }
        string found = t.Kind == TokenKind.Eof ? "end of template" : t.Kind is TokenKind.VarEnd or TokenKind.BlockEnd ? "end of tag" : $"'{t.Value}'";
        throw Error(t, $"unexpected {found} in expression");
    }

    private Expr ParsePostfix(Expr node)
    {
        int links = 0;
        while (true)
        {
            var t = Peek;
            if (t.IsOp(".") || t.IsOp("[") || t.IsOp("("))
            {
                Deepen(t);
                links++;
            }
            if (t.IsOp("."))
            {
                _pos++;
                var name = Next();
                if (name.Kind == TokenKind.Name) node = new AttrExpr(node, name.Value, name.Line, name.Column);
                else if (name.Kind == TokenKind.Int) node = new ItemExpr(node, new LiteralExpr(name.Literal, name.Line, name.Column), name.Line, name.Column);
                else throw Error(name, "expected an attribute name after '.'");
            }
            else if (t.IsOp("["))
            {
                _pos++;
                node = ParseSubscript(node, t);
            }
            else if (t.IsOp("("))
            {
                _pos++;
                node = new CallExpr(node, ParseArguments(), t.Line, t.Column);
            }
            else
            {
                Rise(links);
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr target, Token open)
    {
        Expr? start = null, stop = null, step = null;
        bool slice = false;
        if (!Peek.IsOp(":")) start = ParseExpression();
        if (Accept(TokenKind.Op, ":"))
        {
            slice = true;
            if (!Peek.IsOp("]") && !Peek.IsOp(":")) stop = ParseExpression();
            if (Accept(TokenKind.Op, ":") && !Peek.IsOp("]")) step = ParseExpression();
        }
        else if (Peek.IsOp(","))
        {
            throw Error(Peek, "unsupported subscript: tuple index");
        }
        Expect(TokenKind.Op, "]");
        return slice ? new SliceExpr(target, start, stop, step, open.Line, open.Column) : new ItemExpr(target, start!, open.Line, open.Column);
    }

    // After '(' : positional and keyword arguments up to ')'.
    private Arguments ParseArguments()
    {
        var positional = new List<Expr>();
        var named = new List<(string, Expr)>();
        while (!Peek.IsOp(")"))
        {
            if (positional.Count + named.Count > 0) Expect(TokenKind.Op, ",");
            if (Peek.IsOp(")")) break;
            if (Peek.IsOp("*") || Peek.IsOp("**")) throw Error(Peek, "unsupported call syntax: *args/**kwargs");
            if (Peek.Kind == TokenKind.Name && PeekAt(1).IsOp("="))
            {
                string name = Next().Value;
                _pos++;
                named.Add((name, ParseExpression()));
            }
            else
            {
                if (named.Count > 0) throw Error(Peek, "positional argument follows keyword argument");
                positional.Add(ParseExpression());
            }
        }
        Expect(TokenKind.Op, ")");
        return new Arguments(positional, named);
    }

    private List<FilterExpr> ParseFilterChain(Expr? value)
    {
        var list = new List<FilterExpr>();
        do
        {
            if (list.Count >= TemplateLimits.MaxNesting)
                throw Error(Peek, $"the template chains more than {TemplateLimits.MaxNesting} filters (the limit)");
            var name = Expect(TokenKind.Name);
            if (!JinjaFilters.IsKnown(name.Value)) throw Error(name, $"unsupported filter '{name.Value}'");
            var args = Accept(TokenKind.Op, "(") ? ParseArguments() : Arguments.None;
            var f = new FilterExpr(value, name.Value, args, name.Line, name.Column);
            list.Add(f);
            value = null;
        } while (Accept(TokenKind.Op, "|"));
        return list;
    }

    private Expr ParseFilterAndTests(Expr node)
    {
        int links = 0;
        while (true)
        {
            if (Peek.IsOp("|") || Peek.IsName("is"))
            {
                Deepen(Peek);
                links++;
            }
            if (Peek.IsOp("|"))
            {
                _pos++;
                var name = Expect(TokenKind.Name);
                if (!JinjaFilters.IsKnown(name.Value)) throw Error(name, $"unsupported filter '{name.Value}'");
                var args = Accept(TokenKind.Op, "(") ? ParseArguments() : Arguments.None;
                node = ParsePostfix(new FilterExpr(node, name.Value, args, name.Line, name.Column));
            }
            else if (Peek.IsName("is"))
            {
                _pos++;
                bool negated = Accept(TokenKind.Name, "not");
                var name = Next();
                string testName = name.Kind switch
                {
                    TokenKind.Name => name.Value,
                    TokenKind.Op when name.Value is "==" or "!=" or "<" or ">" or "<=" or ">=" => name.Value,
                    _ => throw Error(name, "expected a test name after 'is'"),
                };
                if (name.Kind == TokenKind.Name && testName is "none" or "true" or "false" or "None" or "True" or "False")
                    testName = testName.ToLowerInvariant();
                if (!JinjaTests.IsKnown(testName)) throw Error(name, $"unsupported test '{testName}'");
                Arguments args;
                if (Accept(TokenKind.Op, "(")) args = ParseArguments();
                else if (StartsBareTestArgument(Peek)) args = new Arguments([ParsePostfix(ParsePrimary())], []);
                else args = Arguments.None;
                node = new TestExpr(node, testName, args, negated, name.Line, name.Column);
            }
            else
            {
                Rise(links);
                return node;
            }
        }
    }

    // Jinja2 allows one argument without parentheses: `x is divisibleby 3`, `x is sameas none`.
    private static bool StartsBareTestArgument(Token t) =>
        t.Kind is TokenKind.String or TokenKind.Int or TokenKind.Float
        || (t.Kind == TokenKind.Name && t.Value is not ("else" or "or" or "and" or "if" or "is" or "in" or "not"))
        || t.IsOp("[") || t.IsOp("{");
}
