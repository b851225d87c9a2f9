namespace Retort.Training.Data;

/// <summary>
/// One tokenized document: its tokens and, per token, whether the model is trained to predict it
/// (completion tokens yes, prompt tokens no, so SFT learns the answer and not the question).
/// </summary>
public sealed record TrainingExample(int[] Tokens, bool[] Trained)
{
    public int Length => Tokens.Length;

    /// <summary>Tokens that carry a loss (a trained token that has a predecessor).</summary>
    public int TargetCount => Trained.Skip(1).Count(t => t);
}
