namespace Retort.Training.Tests.Support;

/// <summary>
/// Locates ../shared/fixtures (the reference data made with Hugging Face transformers and
/// llama.cpp) from the test's working directory, or from RETORT_FIXTURES when set.
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        string? env = Environment.GetEnvironmentVariable("RETORT_FIXTURES");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "shared", "fixtures");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException(
            "test fixtures not found: expected a folder shared/fixtures beside the repository (../shared/fixtures) or RETORT_FIXTURES");
    }
}
