using Retort.Engine;

namespace Retort.Training.Lora;

/// <summary>
/// Low-rank adapters (Hu et al.) as PEFT defines them: W x + (alpha / rank) · B A dropout(x), with
/// A [rank, in] and B [out, rank]; the base model stays frozen and only A and B train.
/// </summary>
public sealed record LoraOptions
{
    /// <summary>The projections an adapter may target, by their Hugging Face module name.</summary>
    public static readonly IReadOnlyList<string> KnownTargets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public int Rank { get; init; } = 8;

    public double Alpha { get; init; } = 16;

    public double Dropout { get; init; }

    public IReadOnlyList<string> Targets { get; init; } = ["q_proj", "v_proj"];

    public double Scaling => Alpha / Rank;

    public void Validate()
    {
        if (Rank <= 0) throw new RetortException($"LoRA rank must be positive, found {Rank}");
        if (!(Alpha > 0)) throw new RetortException($"LoRA alpha must be positive, found {Alpha}");
        if (!(Dropout >= 0 && Dropout < 1)) throw new RetortException($"LoRA dropout must lie in [0, 1), found {Dropout}");
        if (Targets.Count == 0) throw new RetortException("LoRA needs at least one target module (e.g. q_proj,v_proj)");
        foreach (string t in Targets)
            if (!KnownTargets.Contains(t))
                throw new RetortException($"LoRA target '{t}' is not a projection of this model (expected some of: {string.Join(", ", KnownTargets)})");
    }
}
