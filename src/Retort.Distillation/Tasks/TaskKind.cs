namespace Retort.Distillation.Tasks;

/// <summary>The families of synthetic reasoning tasks; each has an answer that can be checked exactly.</summary>
public enum TaskKind
{
    /// <summary>鸡兔同笼: heads (or animals) and legs given; count the two-legged, the four-legged, or both.</summary>
    ChickensRabbits,

    /// <summary>One linear equation in x, or a 2×2 system solved for x.</summary>
    LinearEquation,

    /// <summary>An expression of +, -, ×, ÷ evaluated step by step (divisions are exact).</summary>
    ArithmeticChain,

    /// <summary>轮流掷骰子: 2 or 3 players, a k-sided die, first to roll a winning face wins; one player's chance as a fraction.</summary>
    DiceProbability,

    /// <summary>Two categorical premises; pick the conclusion that necessarily follows (A–D).</summary>
    Syllogism,

    /// <summary>Syllogisms and traps about one individual: yes / no / not necessarily (会 / 不会 / 不一定), by the premises.</summary>
    SyllogismTrap,

    /// <summary>A short Python function, checked by running hidden tests.</summary>
    PythonFunction,
}
