using Retort.Engine;

namespace Retort.Training.Loop;

/// <summary>Everything that decides how a run trains. Stored in each checkpoint so a resume continues the same run.</summary>
public sealed record TrainingOptions
{
    public LossKind Loss { get; init; } = LossKind.Sft;
    public double Temperature { get; init; } = 2.0;

    public TemperatureSchedule TemperatureSchedule { get; init; } = TemperatureSchedule.Constant;

    /// <summary>The last step's temperature (linear) or a confident teacher's (adaptive); needed by both.</summary>
    public double? TemperatureEnd { get; init; }

    /// <summary>One weight per teacher (normalized to sum 1); null weighs them equally.</summary>
    public double[]? TeacherWeights { get; init; }

    /// <summary>λ of the gradient-matching loss at the first step; it moves linearly to <see cref="GradientMatchLambdaEnd"/>.</summary>
    public double GradientMatchLambdaStart { get; init; } = 0.8;

    public double GradientMatchLambdaEnd { get; init; } = 0.3;

    /// <summary>Weight of the cross-entropy part in the teacher losses (1−alpha goes to the divergence).</summary>
    public double Alpha { get; init; } = 0.5;

    public double JsdBeta { get; init; } = 0.5;
    /// <summary>Feature distillation pairs "STUDENT:TEACHER,…" (decoder layer outputs, 0-based); null: off.</summary>
    public string? FeatureLayers { get; init; }

    public FeatureLoss FeatureLoss { get; init; } = FeatureLoss.Mse;

    public double FeatureWeight { get; init; } = 0.1;

    /// <summary>Quantization-aware training: fake-quantize the layers' weights to this type (Q8_0 or Q4_0) in the forward pass; null trains in float.</summary>
    public Engine.Tensors.GgmlType? Qat { get; init; }

    public double LearningRate { get; init; } = 3e-5;
    public double MinLearningRate { get; init; } = 1e-6;

    /// <summary>Linear warm-up steps; null takes 3 % of the run.</summary>
    public int? WarmupSteps { get; init; }

    /// <summary>Optimizer steps; when null, <see cref="Epochs"/> decides.</summary>
    public int? Steps { get; init; }

    public double Epochs { get; init; } = 1;
    public int BatchRows { get; init; } = 4;
    public int SequenceLength { get; init; } = 512;
    public int GradientAccumulation { get; init; } = 1;
    public bool Pack { get; init; } = true;
    public double MaxGradientNorm { get; init; } = 1.0;
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>Evaluate every N steps (0: only at the end when there is eval data).</summary>
    public int EvalEvery { get; init; }

    /// <summary>Write a checkpoint every N steps (0: only at the end).</summary>
    public int SaveEvery { get; init; }

    /// <summary>Checkpoints kept besides the latest (older ones are deleted).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    public int Seed { get; init; } = 42;

    public void Validate()
    {
        void Positive(double value, string name)
        {
            if (!(value > 0) || double.IsInfinity(value)) throw new RetortException($"{name} must be positive, found {value}");
        }
        Positive(Temperature, "--temperature");
        if (TemperatureSchedule != TemperatureSchedule.Constant)
        {
            if (TemperatureEnd == null) throw new RetortException($"--temperature-schedule {TemperatureSchedule.ToString().ToLowerInvariant()} needs --temperature-end");
            Positive(TemperatureEnd.Value, "--temperature-end");
        }
        foreach (var (value, name) in new[] { (GradientMatchLambdaStart, "--gm-lambda-start"), (GradientMatchLambdaEnd, "--gm-lambda-end") })
            if (!(value >= 0 && value <= 1)) throw new RetortException($"{name} must lie in [0, 1], found {value}");
        Positive(LearningRate, "--lr");
        if (FeatureLayers != null) FeatureDistillation.ParseLayers(FeatureLayers);
        if (!(FeatureWeight >= 0) || double.IsInfinity(FeatureWeight)) throw new RetortException($"--feature-weight must not be negative, found {FeatureWeight}");
        if (Qat is { } qat) Model.FakeQuantization.Validate(qat);
        Positive(BatchRows, "--batch");
        Positive(GradientAccumulation, "--grad-accum");
        Positive(Epochs, "--epochs");
        if (SequenceLength < 2) throw new RetortException($"--seq-len must be at least 2, found {SequenceLength}");
        if (Steps is <= 0) throw new RetortException($"--steps must be positive, found {Steps}");
        if (!(Alpha >= 0 && Alpha <= 1)) throw new RetortException($"--alpha must lie in [0, 1], found {Alpha}");
        if (!(JsdBeta > 0 && JsdBeta < 1)) throw new RetortException($"--jsd-beta must lie strictly between 0 and 1, found {JsdBeta}");
        if (MinLearningRate < 0 || MinLearningRate > LearningRate) throw new RetortException($"--min-lr must lie in [0, --lr], found {MinLearningRate}");
        if (WarmupSteps is < 0) throw new RetortException($"--warmup must not be negative, found {WarmupSteps}");
        if (MaxGradientNorm < 0) throw new RetortException($"--clip must not be negative, found {MaxGradientNorm}");
    }
}
