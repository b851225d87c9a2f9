namespace Retort.Distillation.Evaluation;

/// <summary>What running a code answer's hidden tests gave.</summary>
public enum CodeTestOutcome
{
    /// <summary>Every case returned the expected value.</summary>
    Passed,

    /// <summary>A case failed, raised, or the code did not load, define a function, or finish in time.</summary>
    Failed,

    /// <summary>The tests could not be run (no Python interpreter): the answer is neither right nor wrong, and counts as not right.</summary>
    Unchecked,
}
