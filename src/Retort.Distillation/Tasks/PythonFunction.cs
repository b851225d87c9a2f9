namespace Retort.Distillation.Tasks;

/// <summary>
/// One function of the Python family: its name and parameters, the descriptions a prompt may use (some
/// reserved for held-out prompts), the reference code, the approach in a few lines, and its hidden tests.
/// Functions with a constant (<see cref="Constants"/> non-empty) have "{k}" in their descriptions and
/// code, and tests made for the drawn constant.
/// </summary>
internal sealed record PythonFunction(
    string Name,
    string Parameters,
    int Difficulty,
    Phrase<string> Zh,
    Phrase<string> En,
    string Body,
    string[] StepsZh,
    string[] StepsEn,
    Func<long, IReadOnlyList<(object[] Arguments, object Expected)>> Cases,
    IReadOnlyList<long> Constants);
