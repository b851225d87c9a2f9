using Retort.Distillation.Models;
using Retort.Engine;

namespace Retort.Distillation.Evaluation;

/// <summary>Asks a model every problem K times and scores the answers against the references.</summary>
public static class Evaluator
{
    public static async Task<ModelScore> EvaluateAsync(IChatModel model, IReadOnlyList<EvalItem> items, EvalOptions options,
        CancellationToken cancellationToken = default)
    {
        if (options.Samples < 1) throw new RetortException($"--samples must be at least 1, found {options.Samples}");
        if (options.Concurrency < 1) throw new RetortException($"--concurrency must be at least 1, found {options.Concurrency}");
        var results = new SampleResult[items.Count][];
        for (int i = 0; i < items.Count; i++) results[i] = new SampleResult[options.Samples];
        long tokens = 0, elapsedTicks = 0;
        int done = 0;
        var work = Enumerable.Range(0, items.Count).SelectMany(i => Enumerable.Range(0, options.Samples).Select(s => (Item: i, Sample: s)));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(work, parallel, async (w, ct) =>
        {
            var item = items[w.Item];
            var sampling = options.Sampling.Seed is int seed ? options.Sampling with { Seed = unchecked(seed + w.Sample) } : options.Sampling;
            var reply = await model.CompleteAsync(item.Question, sampling, ct);
            results[w.Item][w.Sample] = Score(reply, item, options.CodeRunner);
            Interlocked.Add(ref tokens, reply.CompletionTokens ?? 0);
            Interlocked.Add(ref elapsedTicks, reply.Elapsed.Ticks);
            int count = Interlocked.Increment(ref done);
            options.Progress?.Report(count);
        });
        var itemResults = items.Select((item, i) => new ItemResult(item.Id, item.Reference, results[i], item.Group)).ToList();
        return new ModelScore(model.Name, options.Samples, itemResults, tokens, TimeSpan.FromTicks(elapsedTicks));
    }

    /// <summary>Extracts the final answer (from the answer part, or the reasoning when the model never closed it) and checks it.</summary>
    internal static SampleResult Score(ChatReply reply, EvalItem item, PythonTestRunner runner)
    {
        string text = string.IsNullOrWhiteSpace(reply.Answer) ? reply.Reasoning : reply.Answer;
        var (extracted, outcome) = AnswerCheck.Check(text, item, runner);
        return new SampleResult(extracted, outcome == CodeTestOutcome.Passed, reply.CompletionTokens, reply.FinishReason, outcome == CodeTestOutcome.Unchecked);
    }
}
