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

    /// <summary>
    /// The seeds' gradient matching: λ·MSE(g_t, g_s) + (1−λ)·T²·KL(teacher ‖ student), g = d CE / d logits
    /// at T = 1 of each model, λ linear from 0.8 to 0.3 over the run (no separate CE term).
    /// </summary>
    GradientMatch,
}
