using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Retort.Engine.Kernels;
using Retort.Engine.Tensors;

namespace Retort.Benchmarks;

public static class Program
{
    /// <summary>
    /// `--quick [seconds]`: a plain Stopwatch sweep for iterating on kernels (seconds per case, default 1).
    /// Anything else goes to BenchmarkDotNet, with a short job by default (3 warm-ups, 5 iterations).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--membw")
        {
            MemoryBandwidth.Measure();
            return 0;
        }
        if (args.Length > 0 && args[0] == "--pack")
        {
            foreach (int threads in new[] { 1, 2 })
            {
                using var c = new MatVecCase(GgmlType.Q4_0, "1536x8960", threads, 1, interleaved: true);
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < 10; i++) c.Repack();
                Console.WriteLine($"pack Q4_0 1536x8960 threads={threads}: {sw.Elapsed.TotalMilliseconds / 10:F2} ms, {c.WeightBytes * 10 / sw.Elapsed.TotalSeconds / 1e9:F2} GB/s");
            }
            return 0;
        }
        if (args.Length > 0 && args[0] == "--batch")
        {
            QuickBatch(args.Length > 1 ? int.Parse(args[1]) : 32, args.Length > 2 ? args[2] : "1536x8960", args.Skip(3).ToArray());
            return 0;
        }
        if (args.Length > 0 && args[0] == "--quick")
        {
            double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1;
            Quick(seconds, args.Skip(2).ToArray());
            return 0;
        }
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithWarmupCount(3).WithIterationCount(5).WithLaunchCount(1))
            .AddColumn(new WeightBandwidthColumn());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }

    /// <summary>
    /// Prompt-processing shape: one matmul over a batch of tokens, reported as tokens/s and GOP/s.
    /// `--batch N [COLSxROWS] [VARIANT...]`; variants ending in x8 are the interleaved layouts.
    /// </summary>
    private static void QuickBatch(int batch, string shape, string[] only)
    {
        var dims = shape.Split('x').Select(int.Parse).ToArray();
        foreach (string variant in new[] { "Q4_0", "Q4_0x8", "Q8_0", "Q8_0x8", "Q4_K", "Q4_Kx8", "Q6_K" })
        {
            if (only.Length > 0 && !only.Contains(variant)) continue;
            string type = variant[..4];
            foreach (int threads in new[] { 1, 2 })
            {
                using var c = new MatVecCase(Enum.Parse<GgmlType>(type), shape, threads, batch, interleaved: variant.EndsWith("x8"));
                var sw = Stopwatch.StartNew();
                while (sw.Elapsed.TotalSeconds < 0.3) c.Run();
                sw.Restart();
                int n = 0;
                while (sw.Elapsed.TotalSeconds < 1) { c.Run(); n++; }
                double s = sw.Elapsed.TotalSeconds / n;
                Console.WriteLine($"{variant,-6} {shape} batch={batch} threads={threads}  {s * 1e3,8:F2} ms  {batch / s,8:F0} tok/s  {2.0 * dims[0] * dims[1] * batch / s / 1e9,6:F1} GOP/s");
            }
        }
    }

    private static void Quick(double seconds, string[] filter)
    {
        Console.WriteLine($"kernel path: {KernelPaths.Best}, processors: {Environment.ProcessorCount}");
        foreach (string type in new[] { "Q4_0", "Q8_0", "Q4_K", "Q6_K", "F16", "BF16" })
        {
            if (filter.Any(f => !f.Contains('x')) && !filter.Contains(type)) continue;
            foreach (string shape in new[] { "1536x8960", "8960x1536", "1536x151936" })
            {
                if (filter.Any(f => f.Contains('x')) && !filter.Contains(shape)) continue;
                foreach (int threads in new[] { 1, 2 })
                {
                    using var c = new MatVecCase(Enum.Parse<GgmlType>(type), shape, threads);
                    // Warm up by time so tiered compilation has installed the optimized code.
                    var warm = Stopwatch.StartNew();
                    while (warm.Elapsed.TotalSeconds < 0.3) c.Run();
                    var sw = Stopwatch.StartNew();
                    int n = 0;
                    while (sw.Elapsed.TotalSeconds < seconds) { c.Run(); n++; }
                    double s = sw.Elapsed.TotalSeconds / n;
                    Console.WriteLine($"{type,-5} {shape,-12} threads={threads}  {s * 1e6,9:F1} us  {c.WeightBytes / s / 1e9,6:F1} GB/s");
                }
            }
        }
    }
}
