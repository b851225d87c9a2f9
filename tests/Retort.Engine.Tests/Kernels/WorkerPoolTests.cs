using Retort.Engine.Kernels;

namespace Retort.Engine.Tests.Kernels;

[Collection(AllocationCollection.Name)]
public sealed class WorkerPoolTests
{
    private sealed class CountingJob : IRangeJob
    {
        public int[] Hits = new int[1000];
        public int Calls;

        public void Execute(int begin, int end)
        {
            Interlocked.Increment(ref Calls);
            for (int i = begin; i < end; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    private sealed class ThrowingJob : IRangeJob
    {
        public void Execute(int begin, int end)
        {
            if (begin == 0) throw new InvalidOperationException("boom");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RunsEveryItemExactlyOncePerRun(int threads)
    {
        using var pool = new WorkerPool(threads);
        var job = new CountingJob();
        const int runs = 300;
        for (int i = 0; i < runs; i++) pool.Run(job, job.Hits.Length, 7);
        Assert.All(job.Hits, h => Assert.Equal(runs, h));
        int chunks = (job.Hits.Length + 6) / 7;
        Assert.Equal(runs * (threads == 1 ? 1 : chunks), job.Calls);
    }

    [Fact]
    public void WakesWorkersThatFellAsleep()
    {
        using var pool = new WorkerPool(2);
        var job = new CountingJob();
        pool.Run(job, 1000, 10);
        Thread.Sleep(50); // well past the spin budget: the worker is now blocked on the monitor
        pool.Run(job, 1000, 10);
        Assert.All(job.Hits, h => Assert.Equal(2, h));
    }

    [Fact]
    public void PropagatesAJobException()
    {
        using var pool = new WorkerPool(2);
        var ex = Assert.Throws<InvalidOperationException>(() => pool.Run(new ThrowingJob(), 100, 10));
        Assert.Equal("boom", ex.Message);
        var job = new CountingJob();
        pool.Run(job, 1000, 10); // still usable afterwards
        Assert.All(job.Hits, h => Assert.Equal(1, h));
    }

    private sealed class NestedJob(WorkerPool pool) : IRangeJob
    {
        public void Execute(int begin, int end) => pool.Run(new CountingJob(), 10, 1);
    }

    [Fact]
    public void RejectsNestedRun()
    {
        using var pool = new WorkerPool(2);
        Assert.Throws<InvalidOperationException>(() => pool.Run(new NestedJob(pool), 100, 10));
        var job = new CountingJob();
        pool.Run(job, 1000, 10); // the failed operation left the pool usable
        Assert.All(job.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void DispatchDoesNotAllocate()
    {
        using var pool = new WorkerPool(2);
        var job = new CountingJob();
        for (int i = 0; i < 50; i++) pool.Run(job, 1000, 16);
        long thread = GC.GetAllocatedBytesForCurrentThread();
        long total = GC.GetTotalAllocatedBytes(precise: true);
        const int runs = 20_000;
        for (int i = 0; i < runs; i++) pool.Run(job, 1000, 16);
        long threadDelta = GC.GetAllocatedBytesForCurrentThread() - thread;
        long totalDelta = GC.GetTotalAllocatedBytes(precise: true) - total;
        Assert.Equal(0, threadDelta);
        // The test host's own threads (result reporting) allocate tens of KiB meanwhile; one object
        // per run on a worker (24 bytes at least) would be 480 KB over these runs.
        Assert.True(totalDelta < 256 * 1024, $"allocated {totalDelta} bytes over {runs} runs");
    }
}
