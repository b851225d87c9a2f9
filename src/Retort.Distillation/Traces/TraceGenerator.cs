using Retort.Distillation.Models;
using Retort.Engine;

namespace Retort.Distillation.Traces;

/// <summary>
/// Collects teacher traces: K samples for each prompt, C requests in flight, appended to the output as
/// they finish. Samples already in the output are skipped, so a killed run resumes where it stopped.
/// </summary>
public static class TraceGenerator
{
    public static async Task<TraceGenerationSummary> RunAsync(IChatModel teacher, IReadOnlyList<PromptItem> prompts, string outputPath,
        TraceGenerationOptions options, CancellationToken cancellationToken = default)
    {
        if (options.SamplesPerPrompt < 1) throw new RetortException($"--samples-per-prompt must be at least 1, found {options.SamplesPerPrompt}");
        if (options.Concurrency < 1) throw new RetortException($"--concurrency must be at least 1, found {options.Concurrency}");
        using var output = TraceOutput.Open(outputPath);
        var work = new List<(PromptItem Item, int Sample)>();
        int requested = 0;
        foreach (var item in prompts)
            for (int s = 0; s < options.SamplesPerPrompt; s++)
            {
                requested++;
                if (!output.Done.Contains((item.Id, s))) work.Add((item, s));
            }

        int written = 0;
        var rejected = new List<string>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(work, parallel, async (w, ct) =>
        {
            var sampling = options.Sampling.Seed is int seed ? options.Sampling with { Seed = unchecked(seed + w.Sample) } : options.Sampling;
            ChatReply reply;
            try
            {
                reply = await teacher.CompleteAsync(w.Item.Prompt, sampling, ct);
            }
            catch (PromptRejectedException ex)
            {
                lock (rejected) rejected.Add($"{w.Item.Id} sample {w.Sample}: {ex.Message}");
                return;
            }
            output.Append(TraceRecord.ToJson(w.Item, w.Sample, reply, teacher.Name, sampling));
            int count = Interlocked.Increment(ref written);
            options.Progress?.Report(count);
        });
        return new TraceGenerationSummary(requested, requested - work.Count, written, output.RepairedBytes, rejected);
    }
}
