using Retort.Training.Model;

namespace Retort.Training.Loop;

/// <summary>A source of teacher logits for distillation.</summary>
public interface ITeacher
{
    /// <summary>Tokens the teacher's vocabulary holds (must cover the student's loss vocabulary).</summary>
    int Vocabulary { get; }

    /// <summary>
    /// Logits [tokens, vocabulary] for every token of the batch (zeros for padding), each document
    /// run on its own from position 0, as the student sees it.
    /// </summary>
    float[] Logits(TrainingBatch batch, int vocabulary);
}
