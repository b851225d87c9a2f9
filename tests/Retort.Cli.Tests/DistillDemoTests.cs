using System.Diagnostics;
using System.Text.Json;
using Retort.Tests.Support;

namespace Retort.Cli.Tests;

/// <summary>
/// CI's shrunken run of the end-to-end demo (bench/distill-demo.sh --scale toy): the same script and
/// commands as the full run behind docs/distillation.md, with tiny models and tens of steps.
/// </summary>
public sealed class DistillDemoTests
{
    private static readonly string[] Models = ["teacher", "student-sft", "student-kd", "student-scratch"];

    [Fact]
    public async Task ToyDemoWritesEveryArtifactAndTheStudentsLearn()
    {
        string root = Fixtures.RepositoryPath();
        string output = Path.Combine(Path.GetTempPath(), "retort-demo-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in new[] { Path.Combine(root, "bench", "distill-demo.sh"), "--scale", "toy", "--seed", "3", "--out", output, "--threads", "2" })
                start.ArgumentList.Add(arg);
            // The CLI built beside this test (a project reference), so the script needs no build of its own.
            start.Environment["RETORT"] = "dotnet " + Path.Combine(AppContext.BaseDirectory, "retort.dll");
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"demo failed ({process.ExitCode}):\n{stdout}\n{await stderr}");

            foreach (string file in new[] { "train.jsonl", "heldout.jsonl", "traces.jsonl", "clean.jsonl", "clean-report.json", "eval.md" })
                Assert.True(new FileInfo(Path.Combine(output, file)).Length > 0, file + " is missing or empty");
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(Path.Combine(output, "eval.png"))[..4]);
            foreach (string model in Models)
                Assert.Equal("GGUF"u8.ToArray(), File.ReadAllBytes(Path.Combine(output, model, "model.gguf"))[..4]);

            using var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "eval.json")));
            var evaluated = eval.RootElement.GetProperty("models").EnumerateArray().ToList();
            Assert.Equal(Models, evaluated.Select(m => m.GetProperty("model").GetString()));
            Assert.All(evaluated, m => Assert.Equal(7, m.GetProperty("items").GetInt32()));
            string table = File.ReadAllText(Path.Combine(output, "eval.md"));
            Assert.All(Models, m => Assert.Contains($"| {m} |", table));

            foreach (string student in new[] { "student-sft", "student-kd", "student-scratch" })
            {
                var losses = File.ReadAllLines(Path.Combine(output, student, "log.jsonl"))
                    .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("loss").GetDouble()).ToList();
                Assert.Equal(16, losses.Count);
                // Noisy per step; the mean of the last quarter against the first quarter.
                Assert.True(losses.TakeLast(4).Average() < losses.Take(4).Average() - 0.1,
                    $"{student}: loss did not go down: {string.Join(", ", losses)}");
            }
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }
}
