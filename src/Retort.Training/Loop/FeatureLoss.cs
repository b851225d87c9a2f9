namespace Retort.Training.Loop;

/// <summary>How a projected student hidden state is compared with the teacher's.</summary>
public enum FeatureLoss
{
    /// <summary>Mean over loss positions and teacher dimensions of (P·h_s − h_t)².</summary>
    Mse,

    /// <summary>Mean over loss positions of 1 − cos(P·h_s, h_t).</summary>
    Cosine,
}
