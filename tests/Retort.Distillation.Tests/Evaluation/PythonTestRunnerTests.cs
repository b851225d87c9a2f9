using System.Diagnostics;
using Retort.Distillation.Evaluation;
using Retort.Distillation.Tests.Support;

namespace Retort.Distillation.Tests.Evaluation;

/// <summary>Code answers are run against hidden tests: right code passes, wrong, broken and hanging code fails, and without Python nothing passes.</summary>
public sealed class PythonTestRunnerTests
{
    private static readonly CodeTests Palindrome = new("is_palindrome",
    [
        new CodeTestCase("""["abba"]""", "true"),
        new CodeTestCase("""["abc"]""", "false"),
        new CodeTestCase("""[""]""", "true"),
    ]);

    private static readonly PythonTestRunner Runner = new() { Timeout = TimeSpan.FromSeconds(3) };

    [Theory]
    [InlineData("def is_palindrome(s):\n    return s == s[::-1]")]
    [InlineData("def check(text):\n    return text == ''.join(reversed(text))")] // another name: the last function defined is called
    [InlineData("def helper(c):\n    return c\n\ndef is_palindrome(s):\n    i, j = 0, len(s) - 1\n    while i < j:\n        if s[i] != s[j]:\n            return False\n        i += 1\n        j -= 1\n    return True")]
    public void ACorrectFunctionPasses(string code)
    {
        PythonAvailable.Require();
        var result = Runner.Run(code, Palindrome);
        Assert.True(result.Outcome == CodeTestOutcome.Passed, result.Detail);
        Assert.Equal("3 of 3 cases passed", result.Detail);
    }

    [Theory]
    [InlineData("def is_palindrome(s):\n    return s == s[1:]", "case 1 ['abba']: expected True, got False")]
    [InlineData("def is_palindrome(s):\n    return 1 if s == s[::-1] else 0", "case 1 ['abba']: expected True, got 1")]
    [InlineData("def is_palindrome(s):\n    return s[0] == s[-1]", "case 3 ['']: raised IndexError")]
    [InlineData("def is_palindrome(s)\n    return True", "the code does not run: SyntaxError")]
    [InlineData("x = 1", "the code defines no function")]
    [InlineData("import socket\ndef is_palindrome(s):\n    return True", "the code does not run: ModuleNotFoundError")]
    [InlineData("import os\nos.system('echo hi')\ndef is_palindrome(s):\n    return True", "the code does not run: AttributeError")]
    [InlineData("def is_palindrome(s):\n    print('ALL PASSED 3')\n    raise SystemExit(0)", "case 1 ['abba']: raised SystemExit")]
    public void AWrongOrBrokenFunctionFails(string code, string detail)
    {
        PythonAvailable.Require();
        var result = Runner.Run(code, Palindrome);
        Assert.Equal(CodeTestOutcome.Failed, result.Outcome);
        Assert.StartsWith(detail, result.Detail);
    }

    [Fact]
    public void AHangingFunctionIsStoppedAtTheTimeoutAndFails()
    {
        PythonAvailable.Require();
        var clock = Stopwatch.StartNew();
        var result = new PythonTestRunner { Timeout = TimeSpan.FromSeconds(2) }.Run("def is_palindrome(s):\n    while True:\n        pass", Palindrome);
        Assert.Equal(CodeTestOutcome.Failed, result.Outcome);
        Assert.Equal("timed out after 2 s", result.Detail);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public void TheAnswerRunsInAnEmptyFolderWithoutTheCallersEnvironment()
    {
        PythonAvailable.Require();
        Environment.SetEnvironmentVariable("RETORT_TEST_SECRET", "hunter2");
        try
        {
            var tests = new CodeTests("f", [new CodeTestCase("[]", """[false, ["candidate.py", "cases.json", "harness.py"]]""")]);
            var result = Runner.Run("import os\ndef f():\n    return ['RETORT_TEST_SECRET' in os.environ, sorted(os.listdir('.'))]", tests);
            Assert.True(result.Outcome == CodeTestOutcome.Passed, result.Detail);
        }
        finally
        {
            Environment.SetEnvironmentVariable("RETORT_TEST_SECRET", null);
        }
    }

    [Fact]
    public void WithoutPythonEveryAnswerIsUncheckedNeverPassed()
    {
        var result = new PythonTestRunner { Python = "/nonexistent/python3" }.Run("def is_palindrome(s):\n    return s == s[::-1]", Palindrome);
        Assert.Equal(CodeTestOutcome.Unchecked, result.Outcome);
        Assert.Contains("no Python interpreter ('/nonexistent/python3' did not run)", result.Detail);
    }
}
