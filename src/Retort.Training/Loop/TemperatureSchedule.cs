namespace Retort.Training.Loop;

/// <summary>How the distillation temperature moves during a run.</summary>
public enum TemperatureSchedule
{
    /// <summary>T = --temperature at every step and position.</summary>
    Constant,

    /// <summary>T goes linearly from --temperature at the first step to --temperature-end at the last.</summary>
    Linear,

    /// <summary>
    /// Per position from the teacher's confidence: h = H(p_teacher at T = 1) / ln V in [0, 1], and
    /// T = --temperature + (--temperature-end − --temperature)·(1 − h). A confident teacher (h near 0)
    /// gets --temperature-end, a uniform one --temperature; softening only where the teacher is
    /// peaked keeps its ranking of the other tokens visible.
    /// </summary>
    Adaptive,
}
