using System.Diagnostics;
using Retort.Engine.Generation;
using Retort.Engine.Loading;
using Retort.Engine.Model;

namespace Retort.Server;

/// <summary>
/// Continuous batching: one loop runs every sequence the slots hold. Each turn it drops the sequences
/// whose clients left, computes up to <see cref="Generator.PromptBatch"/> prompt tokens of the sequences
/// still reading their prompt (so a long prompt delays the others by one chunk, not by all of it), then
/// runs one decode step for all the others together: one forward pass with a row per sequence, so the
/// weights are read once per step however many clients there are. Sequences join and leave between
/// steps. The loop runs on its own thread while there is work and ends when there is none.
/// </summary>
internal sealed class BatchScheduler(LoadedModel model, SlotPool pool, ServerMetrics metrics)
{
    private readonly object _gate = new();
    private readonly List<ScheduledSequence> _incoming = new();
    private readonly List<ScheduledSequence> _active = new();
    private bool _running;

    // Reused by every step: a decode step allocates nothing of its own.
    private int[] _tokens = [];
    private KvCache[] _caches = [];
    private ScheduledSequence[] _batch = [];

    public void Submit(ScheduledSequence sequence)
    {
        lock (_gate)
        {
            _incoming.Add(sequence);
            if (_running) return;
            _running = true;
        }
        new Thread(Loop) { IsBackground = true, Name = "retort-scheduler" }.Start();
    }

    private void Loop()
    {
        while (true)
        {
            lock (_gate)
            {
                _active.AddRange(_incoming);
                _incoming.Clear();
                if (_active.Count == 0)
                {
                    _running = false;
                    return;
                }
            }
            try
            {
                Step();
            }
            catch (Exception ex)
            {
                // Not expected (per-sequence failures are caught below); never leave a slot busy or a client waiting.
                foreach (var s in _active) s.Fail(ex);
            }
            Retire();
        }
    }

    private void Step()
    {
        foreach (var s in _active)
            if (s.CancellationRequested) s.Cancel();
        Retire();
        if (_active.Count == 0) return;

        model.ForwardLock.Enter();
        try
        {
            int budget = Generator.PromptBatch;
            foreach (var s in _active)
            {
                if (budget == 0) break;
                if (!s.Prefilling) continue;
                try
                {
                    int computed = s.Prefill(budget);
                    budget -= computed;
                    metrics.CountPrefill(computed);
                }
                catch (Exception ex)
                {
                    s.Fail(ex);
                }
            }
            Decode();
        }
        finally
        {
            model.ForwardLock.Exit();
        }
    }

    private void Decode()
    {
        int n = 0;
        foreach (var s in _active)
            if (s.Decoding) n++;
        if (n == 0) return;
        if (_tokens.Length < n)
        {
            _tokens = new int[n];
            _caches = new KvCache[n];
            _batch = new ScheduledSequence[n];
        }
        int b = 0;
        foreach (var s in _active)
        {
            if (!s.Decoding) continue;
            _tokens[b] = s.NextToken;
            _caches[b] = s.Cache;
            _batch[b++] = s;
        }
        long start = Stopwatch.GetTimestamp();
        Span<float> logits;
        try
        {
            logits = model.Transformer.DecodeBatchInPlace(_tokens.AsSpan(0, n), _caches.AsSpan(0, n));
        }
        catch (Exception ex)
        {
            for (int i = 0; i < n; i++) _batch[i].Fail(ex);
            return;
        }
        int vocab = model.Config.VocabSize;
        for (int i = 0; i < n; i++)
        {
            try
            {
                _batch[i].Decoded(logits.Slice(i * vocab, vocab));
            }
            catch (Exception ex)
            {
                _batch[i].Fail(ex);
            }
        }
        metrics.CountDecodeStep(n, Stopwatch.GetElapsedTime(start));
        Array.Clear(_caches, 0, n);
        Array.Clear(_batch, 0, n);
    }

    /// <summary>Completes the sequences that ended and frees their slots (and the KV pages they no longer need).</summary>
    private void Retire()
    {
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            var s = _active[i];
            if (!s.Ended) continue;
            _active.RemoveAt(i);
            var result = s.Complete();
            if (result != null)
            {
                metrics.CountTokens(result.PromptTokens.Count, result.Tokens.Count);
                if (result.FinishReason == FinishReason.Cancelled) metrics.CountCancelled();
            }
            // No result: the sequence failed, and its cache is not kept for a next turn.
            pool.Release(s.Slot, keepCache: result != null);
        }
    }
}
