namespace Retort.Distillation.Tasks;

/// <summary>The families of synthetic reasoning tasks; each has an answer that can be checked exactly.</summary>
public enum TaskKind
{
    /// <summary>鸡兔同笼: heads and legs given, count one kind of animal.</summary>
    ChickensRabbits,

    /// <summary>One linear equation in x, or a 2×2 system solved for x.</summary>
    LinearEquation,

    /// <summary>An expression of +, -, ×, ÷ evaluated step by step (divisions are exact).</summary>
    ArithmeticChain,

    /// <summary>甲乙轮流掷骰子: the probability that the first player wins, as an exact fraction.</summary>
    DiceProbability,

    /// <summary>Two categorical premises; pick the conclusion that necessarily follows (A–D).</summary>
    Syllogism,
}
