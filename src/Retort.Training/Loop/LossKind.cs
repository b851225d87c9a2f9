namespace Retort.Training.Loop;

/// <summary>The training objective.</summary>
public enum LossKind
{
    /// <summary>Cross-entropy on the completion tokens (supervised fine-tuning on traces).</summary>
    Sft,

    /// <summary>alpha·CE + (1−alpha)·T²·KL(teacher ‖ student) at temperature T.</summary>
    Kd,

    /// <summary>alpha·CE + (1−alpha)·T²·KL(student ‖ teacher).</summary>
    ReverseKl,

    /// <summary>alpha·CE + (1−alpha)·T²·generalized JSD(beta).</summary>
    Jsd,
}
