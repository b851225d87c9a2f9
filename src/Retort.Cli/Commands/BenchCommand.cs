using System.CommandLine;
using System.Diagnostics;
using Retort.Engine;

namespace Retort.Cli.Commands;

/// <summary>
/// <c>retort bench MODEL -p 512 -n 128 -d 0,4096</c>, in the manner of llama-bench: prompt processing
/// (one batch of p random token ids) and generation (n single-token steps), each on top of d random
/// tokens already in the cache, tokens per second as mean ± sd over the repetitions that follow one
/// warm-up. -p, -n, -d and the cache types take comma-separated lists; every combination is a test.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CliIo io)
    {
        var model = new ModelArgument(io);
        var prompt = new Option<string>("--n-prompt", "-p") { Description = "prompt tokens, a comma-separated list (0: skip)", DefaultValueFactory = _ => "512" };
        var gen = new Option<string>("--n-gen", "-n") { Description = "generated tokens, a comma-separated list (0: skip)", DefaultValueFactory = _ => "128" };
        var depth = new Option<string>("--n-depth", "-d")
        {
            Description = "tokens already in the KV cache before each test (random, not timed), a comma-separated list",
            DefaultValueFactory = _ => "0",
        };
        var reps = new Option<int>("--repetitions", "-r") { Description = "measured repetitions", DefaultValueFactory = _ => 5 };
        var threads = ThreadsOption.Create();
        var output = new Option<string?>("--output", "-o") { Description = $"output format: {string.Join(", ", BenchReport.Formats)} (default: table)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object (as -o json)" };
        var cacheType = new CacheTypeOption();
        var seed = new Option<int>("--seed") { Description = "seed of the random token ids", DefaultValueFactory = _ => 1 };
        var command = new Command("bench", "Measure prompt processing and generation speed (like llama-bench)")
        {
            prompt, gen, depth, reps, threads, output, json, seed,
        };
        model.AddTo(command, withTemplate: false);
        cacheType.AddTo(command);
        command.SetAction(result =>
        {
            // Every setting is checked before the model is opened: a typo costs no load time.
            var prompts = CommaList.Counts(result.GetValue(prompt)!, "-p");
            var gens = CommaList.Counts(result.GetValue(gen)!, "-n");
            var depths = CommaList.Counts(result.GetValue(depth)!, "-d");
            int r = result.GetValue(reps);
            int t = ThreadsOption.Read(result, threads);
            if (prompts.All(p => p == 0) && gens.All(n => n == 0))
                throw new RetortException($"nothing to measure: -p {result.GetValue(prompt)} and -n {result.GetValue(gen)} are all 0");
            if (r < 1) throw new RetortException($"-r must be at least 1, found {r}");
            string format = ReadFormat(result.GetValue(output), result.GetValue(json));
            var asked = cacheType.ReadLists(result);

            var load = Stopwatch.StartNew();
            using var loaded = model.Load(result, withTemplate: false, threads: t);
            load.Stop();
            var transformer = loaded.Transformer;
            var cacheTypes = asked.Select(types => CacheTypeOption.Resolve(loaded.Config, types)).Distinct().ToList();
            var tests = BenchTest.Plan(cacheTypes, depths, prompts, gens);
            int context = loaded.Config.ContextLength;
            var longest = tests.MaxBy(test => (long)test.Depth + test.Tokens)!;
            if ((long)longest.Depth + longest.Tokens > context)
                throw new RetortException($"{longest.Label} needs {(long)longest.Depth + longest.Tokens} positions (-d {longest.Depth} + {longest.Tokens}), more than the model's context of {context}");
            foreach (var types in cacheTypes) CacheTypeOption.Apply(transformer, (types.Key, types.Value));
            // Time the steady state: weights finish their background re-layout first (reported apart).
            var interleave = transformer.WaitForInterleaving();

            var runner = new BenchRunner(transformer, r, new Random(result.GetValue(seed)), io.Error);
            var results = runner.Run(tests);

            // Which bodies ran: figures from another CPU (or RETORT_KERNEL_PATH / RETORT_AVX512) are not comparable.
            var file = new FileInfo(loaded.Path);
            var report = new BenchReport(loaded.Path, loaded.Config.Architecture, loaded.ParameterCount, file.Exists ? file.Length : 0,
                t == 0 ? Environment.ProcessorCount : t, r, load.Elapsed.TotalSeconds, interleave.TotalSeconds, PeakResidentBytes(),
                Engine.Model.Transformer.KernelDescription, results);
            switch (format)
            {
                case "json": report.WriteJson(io.Out); break;
                case "csv": report.WriteCsv(io.Out); break;
                case "md": report.WriteMarkdown(io.Out); break;
                default: report.WriteTable(io.CreateConsole()); break;
            }
            return 0;
        });
        return command;
    }

    /// <summary>-o, with --json as another way to say -o json.</summary>
    private static string ReadFormat(string? output, bool json)
    {
        if (output == null) return json ? "json" : "table";
        string format = output.Trim().ToLowerInvariant();
        if (!BenchReport.Formats.Contains(format))
            throw new RetortException($"-o must be one of {string.Join(", ", BenchReport.Formats)}, found '{output}'");
        if (json && format != "json") throw new RetortException($"--json and -o {format} ask for different outputs; give one");
        return format;
    }

    /// <summary>VmHWM (the peak resident set) on Linux; elsewhere the current working set.</summary>
    internal static long PeakResidentBytes()
    {
        if (OperatingSystem.IsLinux() && File.Exists("/proc/self/status"))
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal)
                    && long.TryParse(line[6..].Trim().Split(' ')[0], out long kb))
                    return kb * 1024;
        return Environment.WorkingSet;
    }
}
