namespace Retort.Distillation.Tasks;

/// <summary>The language a task is written in ("en" or "zh" in files).</summary>
public enum TaskLanguage
{
    En,
    Zh,
}
