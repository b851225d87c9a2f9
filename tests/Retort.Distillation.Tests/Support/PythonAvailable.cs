using System.Diagnostics;

namespace Retort.Distillation.Tests.Support;

/// <summary>Tests that run code answers need a python3 on PATH; without one they fail with this message rather than pass untested.</summary>
internal static class PythonAvailable
{
    private static readonly Lazy<bool> Found = new(() =>
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("python3", "-c pass") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            return p.WaitForExit(30_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public static void Require() => Assert.True(Found.Value, "these tests run Python answers: install python3 (on PATH)");
}
