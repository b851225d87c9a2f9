using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Retort.Engine;
using Retort.Engine.Loading;
using Spectre.Console;

namespace Retort.Cli.Commands;

/// <summary>
/// <c>retort bench MODEL -p 512 -n 128</c>, in the manner of llama-bench: prompt processing (one batch of
/// p random token ids into a fresh cache) and generation (n single-token steps from a fresh cache),
/// tokens per second as mean ± sd over the repetitions that follow one warm-up.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CliIo io)
    {
        var model = new ModelArgument(io);
        var prompt = new Option<int>("--n-prompt", "-p") { Description = "prompt tokens (0: skip)", DefaultValueFactory = _ => 512 };
        var gen = new Option<int>("--n-gen", "-n") { Description = "generated tokens (0: skip)", DefaultValueFactory = _ => 128 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "measured repetitions", DefaultValueFactory = _ => 5 };
        var threads = ThreadsOption.Create();
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var cacheType = new CacheTypeOption();
        var seed = new Option<int>("--seed") { Description = "seed of the random token ids", DefaultValueFactory = _ => 1 };
        var command = new Command("bench", "Measure prompt processing and generation speed (like llama-bench)")
        {
            prompt, gen, reps, threads, json, seed,
        };
        model.AddTo(command, withTemplate: false);
        cacheType.AddTo(command);
        command.SetAction(result =>
        {
            int p = result.GetValue(prompt), n = result.GetValue(gen), r = result.GetValue(reps);
            int t = ThreadsOption.Read(result, threads);
            if (p < 0 || n < 0 || p + n == 0) throw new RetortException($"-p and -n must be non-negative and not both 0, found {p} and {n}");
            if (r < 1) throw new RetortException($"-r must be at least 1, found {r}");

            var kvType = cacheType.Read(result);
            var load = Stopwatch.StartNew();
            using var loaded = model.Load(result, withTemplate: false, threads: t);
            load.Stop();
            var transformer = loaded.Transformer;
            CacheTypeOption.Apply(transformer, kvType);
            // Time the steady state: weights finish their background re-layout first (reported apart).
            var interleave = transformer.WaitForInterleaving();
            int vocab = loaded.Config.VocabSize;
            if (Math.Max(p, n) > loaded.Config.ContextLength)
                throw new RetortException($"-p/-n of {Math.Max(p, n)} exceed the model's context of {loaded.Config.ContextLength}");
            var rng = new Random(result.GetValue(seed));
            int[] RandomIds(int count) => Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();

            // One cache per test, cleared between repetitions, as llama-bench keeps its context: the
            // figures are the forward pass, not first-touch page faults of a fresh cache.
            var promptCache = p > 0 ? transformer.CreateCache(p) : null;
            var generationCache = n > 0 ? transformer.CreateCache(n) : null;

            double RunPrompt()
            {
                int[] ids = RandomIds(p);
                promptCache!.Clear();
                var clock = Stopwatch.StartNew();
                transformer.Forward(ids, promptCache);
                return p / clock.Elapsed.TotalSeconds;
            }

            double RunGeneration(int steps)
            {
                int[] ids = RandomIds(steps);
                generationCache!.Clear();
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < steps; i++) transformer.Forward(ids.AsSpan(i, 1), generationCache);
                return steps / clock.Elapsed.TotalSeconds;
            }

            // One warm-up (JIT, page-in of the mapped weights, worker start-up) that is not counted.
            if (p > 0) RunPrompt();
            if (n > 0) RunGeneration(n);
            var pp = new List<double>();
            var tg = new List<double>();
            for (int i = 0; i < r; i++)
            {
                if (p > 0) pp.Add(RunPrompt());
                if (n > 0) tg.Add(RunGeneration(n));
            }

            long rss = PeakResidentBytes();
            // Which bodies ran: figures from another CPU (or RETORT_KERNEL_PATH / RETORT_AVX512) are not comparable.
            string kernels = Engine.Model.Transformer.KernelDescription;
            int usedThreads = t == 0 ? Environment.ProcessorCount : t;
            long size = new FileInfo(loaded.Path).Exists ? new FileInfo(loaded.Path).Length : 0;
            if (result.GetValue(json))
            {
                var report = new
                {
                    model = loaded.Path,
                    architecture = loaded.Config.Architecture,
                    parameters = loaded.ParameterCount,
                    file_bytes = size,
                    threads = usedThreads,
                    n_prompt = p,
                    n_gen = n,
                    repetitions = r,
                    load_seconds = load.Elapsed.TotalSeconds,
                    interleave_seconds = interleave.TotalSeconds,
                    pp_tokens_per_second = p > 0 ? Stats(pp) : null,
                    tg_tokens_per_second = n > 0 ? Stats(tg) : null,
                    peak_rss_bytes = rss,
                    kernels,
                };
                io.Out.WriteLine(JsonSerializer.Serialize(report, JsonOutput.Options));
                return 0;
            }

            var console = io.CreateConsole();
            var table = new Table().AddColumns("model", "size", "params", "threads", "test", "t/s");
            string modelName = Path.GetFileName(loaded.Path);
            string sizeText = $"{size / (1024.0 * 1024 * 1024):F2} GiB";
            string paramsText = $"{loaded.ParameterCount / 1e9:F2} B";
            if (p > 0) table.AddRow(modelName, sizeText, paramsText, usedThreads.ToString(), $"pp{p}", Stats(pp).ToString());
            if (n > 0) table.AddRow(modelName, sizeText, paramsText, usedThreads.ToString(), $"tg{n}", Stats(tg).ToString());
            console.Write(table);
            console.WriteLine($"load {load.Elapsed.TotalSeconds:F2} s (+{interleave.TotalSeconds:F2} s background weight re-layout), peak resident memory {rss / (1024.0 * 1024):F0} MiB, {r} repetitions after one warm-up; kernels: {kernels}");
            return 0;
        });
        return command;
    }

    private static MeanSd Stats(List<double> xs)
    {
        double mean = xs.Average();
        double sd = xs.Count > 1 ? Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1)) : 0;
        return new MeanSd(mean, sd, [.. xs]);
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
