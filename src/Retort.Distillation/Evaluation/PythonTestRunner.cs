using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Retort.Distillation.IO;
using Retort.Engine;

namespace Retort.Distillation.Evaluation;

/// <summary>
/// Runs a code answer against its hidden tests with a local Python 3: in a fresh temporary folder, as
/// <c>python -I -S</c> (isolated: no site packages, no PYTHON* variables, no user folders), with an empty
/// environment but PATH, stdin closed, a wall-clock <see cref="Timeout"/> after which the process tree is
/// killed, and inside the harness limits on memory (2 GiB), CPU time and file size, with socket,
/// subprocess and process-spawning functions removed. These guard against the mistakes of a model's
/// code (a hang, a runaway loop, a stray request), not against code written to escape: it is not a sandbox.
/// The function called is <see cref="CodeTests.EntryPoint"/>, or the last function the code defines.
/// Without a Python interpreter every answer is <see cref="CodeTestOutcome.Unchecked"/>.
/// </summary>
public sealed class PythonTestRunner
{
    private const string PassedMarker = "ALL PASSED";

    private static readonly ConcurrentDictionary<string, Lazy<string?>> Interpreters = new();

    /// <summary>The interpreter to run: a name looked up on PATH, or a path.</summary>
    public string Python { get; init; } = "python3";

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public CodeTestResult Run(string code, CodeTests tests)
    {
        if (Timeout <= TimeSpan.Zero) throw new RetortException($"the Python test timeout must be positive, found {Timeout}");
        string? interpreter = Interpreters.GetOrAdd(Python, name => new Lazy<string?>(() => Locate(name))).Value;
        if (interpreter == null)
            return new CodeTestResult(CodeTestOutcome.Unchecked, $"no Python interpreter ('{Python}' did not run): code answers are not checked and count as not right");

        var folder = Directory.CreateTempSubdirectory("retort-python-");
        try
        {
            File.WriteAllText(Path.Combine(folder.FullName, "candidate.py"), code);
            File.WriteAllText(Path.Combine(folder.FullName, "cases.json"), CasesJson(tests));
            File.WriteAllText(Path.Combine(folder.FullName, "harness.py"), Harness);
            var start = new ProcessStartInfo(interpreter)
            {
                WorkingDirectory = folder.FullName,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
            foreach (string arg in new[] { "-I", "-S", "harness.py", ((int)Math.Ceiling(Timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture) })
                start.ArgumentList.Add(arg);
            // The model's code sees no tokens or keys from the environment.
            string path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
            start.Environment.Clear();
            start.Environment["PATH"] = path;
            start.Environment["HOME"] = folder.FullName;
            start.Environment["LC_ALL"] = "C.UTF-8";

            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            var stdout = ReadBoundedAsync(process.StandardOutput);
            var stderr = ReadBoundedAsync(process.StandardError);
            if (!process.WaitForExit(Timeout))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                process.WaitForExit();
                return new CodeTestResult(CodeTestOutcome.Failed, $"timed out after {Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
            }
            process.WaitForExit();
            string output = stdout.GetAwaiter().GetResult().Trim();
            string lastLine = output.Split('\n')[^1].Trim();
            if (process.ExitCode == 0 && lastLine == $"{PassedMarker} {tests.Cases.Count.ToString(CultureInfo.InvariantCulture)}")
                return new CodeTestResult(CodeTestOutcome.Passed, $"{tests.Cases.Count} of {tests.Cases.Count} cases passed");
            string why = output.Length > 0 ? lastLine : stderr.GetAwaiter().GetResult().Trim().Split('\n')[^1];
            return new CodeTestResult(CodeTestOutcome.Failed, why.Length > 0 ? why : $"exit code {process.ExitCode}");
        }
        finally
        {
            try { folder.Delete(recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>The real interpreter behind a name (pyenv and similar shims need an environment the tests run without); null when none runs.</summary>
    private static string? Locate(string python)
    {
        try
        {
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (string arg in new[] { "-I", "-S", "-c", "import sys; print(sys.executable) if sys.version_info[0] == 3 else None" })
                start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                return null;
            }
            string executable = output.GetAwaiter().GetResult().Trim();
            return process.ExitCode == 0 && executable.Length > 0 && File.Exists(executable) ? executable : null;
        }
        catch (Win32Exception)
        {
            return null;
        }
    }

    private static string CasesJson(CodeTests tests) => new JsonObject
    {
        ["entry_point"] = tests.EntryPoint,
        ["cases"] = new JsonArray(tests.Cases.Select(c => (JsonNode)new JsonObject
        {
            ["args"] = JsonNode.Parse(c.Arguments),
            ["expected"] = JsonNode.Parse(c.Expected),
        }).ToArray()),
    }.ToJsonString(JsonlFile.LineOptions);

    /// <summary>Keeps the first 8,000 characters of a stream and drains the rest, so a chatty answer cannot fill memory or block on a full pipe.</summary>
    private static async Task<string> ReadBoundedAsync(StreamReader reader)
    {
        var kept = new StringBuilder();
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
            if (kept.Length < 8000) kept.Append(buffer, 0, Math.Min(n, 8000 - kept.Length));
        return kept.ToString();
    }

    private const string Harness = """
        import json, sys, types
        seconds = int(sys.argv[1])
        try:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
            resource.setrlimit(resource.RLIMIT_CPU, (seconds + 1, seconds + 1))
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        except Exception:
            pass
        with open("cases.json", encoding="utf-8") as f:
            spec = json.load(f)
        with open("candidate.py", encoding="utf-8") as f:
            source = f.read()
        import os
        for name in ("system", "popen", "fork", "forkpty", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp", "execlpe",
                     "spawnv", "spawnve", "spawnvp", "spawnvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "posix_spawn", "posix_spawnp"):
            if hasattr(os, name):
                delattr(os, name)
        for name in ("socket", "_socket", "ssl", "_ssl", "subprocess", "_posixsubprocess", "multiprocessing"):
            sys.modules[name] = None
        namespace = {"__name__": "candidate"}
        try:
            exec(compile(source, "candidate.py", "exec"), namespace)
        except BaseException as e:
            print("the code does not run: " + type(e).__name__ + ": " + ascii(str(e))[:200])
            sys.exit(2)
        function = namespace.get(spec["entry_point"])
        if not isinstance(function, types.FunctionType):
            defined = [v for v in namespace.values() if isinstance(v, types.FunctionType)]
            function = defined[-1] if defined else None
        if function is None:
            print("the code defines no function")
            sys.exit(3)
        for i, case in enumerate(spec["cases"]):
            expected = case["expected"]
            try:
                got = function(*case["args"])
            except BaseException as e:
                print("case %d %s: raised %s" % (i + 1, ascii(case["args"])[:100], type(e).__name__))
                sys.exit(1)
            if got != expected or isinstance(expected, bool) != isinstance(got, bool):
                print("case %d %s: expected %s, got %s" % (i + 1, ascii(case["args"])[:100], ascii(expected)[:100], ascii(got)[:100]))
                sys.exit(1)
        print("ALL PASSED %d" % len(spec["cases"]))
        """;
}
