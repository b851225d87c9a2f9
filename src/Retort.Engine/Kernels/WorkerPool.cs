using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Retort.Engine.Kernels;

/// <summary>
/// A fixed set of threads created once that run <see cref="IRangeJob"/>s split into chunks. The
/// calling thread works too. Between operations workers spin for a short while (decode issues
/// matmuls back to back, and waking a sleeping thread costs more than a small matvec) and then
/// block on a monitor, so an idle pool costs no CPU. Chunks are claimed with an atomic counter,
/// which balances the load when a core is shared with other processes.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

    private readonly Thread[] _threads;
    private readonly object _gate = new();

    private IRangeJob? _job;
    private int _count;
    private int _grain;
    private int _next;
    private int _generation;
    private int _running;
    private int _sleepers;
    private int _busy;
    private volatile bool _disposed;
    private Exception? _error;

    public WorkerPool(int threadCount = 0)
    {
        if (threadCount <= 0) threadCount = Environment.ProcessorCount;
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"retort-worker-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads taking part in each operation, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs job over [0, count) in chunks of grain items and returns when every chunk is done.
    /// Not reentrant: one operation at a time, from one thread.
    /// </summary>
    public void Run(IRangeJob job, int count, int grain)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0) return;
        if (grain < 1) grain = 1;
        // One operation at a time: a second caller (or a job calling Run) would corrupt the shared state.
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException("WorkerPool.Run is already running an operation (concurrent or nested call)");
        try
        {
            RunExclusive(job, count, grain);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void RunExclusive(IRangeJob job, int count, int grain)
    {
        if (_threads.Length == 0 || count <= grain)
        {
            job.Execute(0, count);
            return;
        }

        _job = job;
        _count = count;
        _grain = grain;
        _next = 0;
        _running = _threads.Length;
        // The increment is a full fence: workers that see the new generation see the fields above.
        Interlocked.Increment(ref _generation);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_gate) Monitor.PulseAll(_gate);
        }

        Work();

        var spin = new SpinWait();
        while (Volatile.Read(ref _running) != 0) spin.SpinOnce(sleep1Threshold: -1);
        _job = null;

        Exception? error = Interlocked.Exchange(ref _error, null);
        if (error != null) ExceptionDispatchInfo.Throw(error);
    }

    private void Work()
    {
        IRangeJob job = _job!;
        int count = _count, grain = _grain;
        while (true)
        {
            int begin = Interlocked.Add(ref _next, grain) - grain;
            if (begin >= count) return;
            try
            {
                job.Execute(begin, Math.Min(begin + grain, count));
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
        }
    }

    private void WorkerLoop()
    {
        int seen = 0;
        while (true)
        {
            int generation = WaitForGeneration(seen);
            if (_disposed) return;
            seen = generation;
            Work();
            Interlocked.Decrement(ref _running);
        }
    }

    private int WaitForGeneration(int seen)
    {
        long start = Stopwatch.GetTimestamp();
        var spin = new SpinWait();
        while (true)
        {
            int generation = Volatile.Read(ref _generation);
            if (generation != seen || _disposed) return generation;
            if (Stopwatch.GetTimestamp() - start < SpinTicks)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            lock (_gate)
            {
                // Registering as a sleeper before the final check pairs with Run's increment-then-read,
                // so either we see the new generation or Run sees us and pulses.
                Interlocked.Increment(ref _sleepers);
                while (Volatile.Read(ref _generation) == seen && !_disposed) Monitor.Wait(_gate);
                Interlocked.Decrement(ref _sleepers);
            }
            start = Stopwatch.GetTimestamp();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Interlocked.Increment(ref _generation);
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (Thread t in _threads) t.Join();
    }
}
