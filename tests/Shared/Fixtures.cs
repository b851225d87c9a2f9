namespace Retort.Tests.Support;

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

    /// <summary>A path inside this repository (the folder holding Retort.slnx above the test's output folder).</summary>
    public static string RepositoryPath(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Retort.slnx"))) return System.IO.Path.Combine([dir.FullName, .. parts]);
        throw new DirectoryNotFoundException("the repository (Retort.slnx) not found above " + AppContext.BaseDirectory);
    }
}
