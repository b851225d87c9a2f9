namespace Retort.Engine.Templates;

// Expression nodes. Line and Column point at the token that starts the construct, for errors.
internal abstract record Expr(int Line, int Column);

internal sealed record LiteralExpr(object? Value, int Line, int Column) : Expr(Line, Column);

internal sealed record NameExpr(string Name, int Line, int Column) : Expr(Line, Column);

internal sealed record ListExpr(List<Expr> Items, int Line, int Column) : Expr(Line, Column);

internal sealed record TupleExpr(List<Expr> Items, int Line, int Column) : Expr(Line, Column);

internal sealed record DictExpr(List<(Expr Key, Expr Value)> Pairs, int Line, int Column) : Expr(Line, Column);

internal sealed record AttrExpr(Expr Target, string Name, int Line, int Column) : Expr(Line, Column);

internal sealed record ItemExpr(Expr Target, Expr Index, int Line, int Column) : Expr(Line, Column);

internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line, int Column) : Expr(Line, Column);

internal sealed record Arguments(List<Expr> Positional, List<(string Name, Expr Value)> Named)
{
    public static readonly Arguments None = new([], []);
}

internal sealed record CallExpr(Expr Callee, Arguments Args, int Line, int Column) : Expr(Line, Column);

internal sealed record FilterExpr(Expr? Value, string Name, Arguments Args, int Line, int Column) : Expr(Line, Column);

internal sealed record TestExpr(Expr Value, string Name, Arguments Args, bool Negated, int Line, int Column) : Expr(Line, Column);

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line, int Column) : Expr(Line, Column);

internal sealed record NegExpr(Expr Operand, bool Minus, int Line, int Column) : Expr(Line, Column);

internal sealed record NotExpr(Expr Operand, int Line, int Column) : Expr(Line, Column);

internal sealed record AndOrExpr(bool IsAnd, Expr Left, Expr Right, int Line, int Column) : Expr(Line, Column);

internal sealed record CompareExpr(Expr First, List<(string Op, Expr Operand)> Rest, int Line, int Column) : Expr(Line, Column);

internal sealed record CondExpr(Expr Test, Expr Then, Expr? Else, int Line, int Column) : Expr(Line, Column);

// Statement nodes.
internal abstract record Stmt(int Line, int Column);

internal sealed record DataStmt(string Text, int Line, int Column) : Stmt(Line, Column);

internal sealed record EmitStmt(Expr Value, int Line, int Column) : Stmt(Line, Column);

internal sealed record IfStmt(List<(Expr Test, List<Stmt> Body)> Branches, List<Stmt>? Else, int Line, int Column) : Stmt(Line, Column);

internal sealed record ForStmt(List<string> Targets, bool Unpack, Expr Iterable, Expr? Filter, List<Stmt> Body, List<Stmt>? Else, int Line, int Column)
    : Stmt(Line, Column);

/// <summary>Target is a NameExpr, an AttrExpr on a namespace, or a TupleExpr of names.</summary>
internal sealed record SetStmt(Expr Target, Expr Value, int Line, int Column) : Stmt(Line, Column);

internal sealed record SetBlockStmt(Expr Target, List<FilterExpr> Filters, List<Stmt> Body, int Line, int Column) : Stmt(Line, Column);

internal sealed record MacroParam(string Name, Expr? Default);

internal sealed record MacroStmt(string Name, List<MacroParam> Params, List<Stmt> Body, int Line, int Column) : Stmt(Line, Column);

internal sealed record CallBlockStmt(CallExpr Call, List<MacroParam> CallerParams, List<Stmt> Body, int Line, int Column) : Stmt(Line, Column);

internal sealed record FilterBlockStmt(List<FilterExpr> Filters, List<Stmt> Body, int Line, int Column) : Stmt(Line, Column);

/// <summary>Hugging Face's {% generation %} marks assistant text for masks; rendering passes it through.</summary>
internal sealed record GenerationStmt(List<Stmt> Body, int Line, int Column) : Stmt(Line, Column);

internal sealed record BreakStmt(int Line, int Column) : Stmt(Line, Column);

internal sealed record ContinueStmt(int Line, int Column) : Stmt(Line, Column);
