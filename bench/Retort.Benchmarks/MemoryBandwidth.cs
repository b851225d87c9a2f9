using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Retort.Engine.Kernels;

namespace Retort.Benchmarks;

/// <summary>The ceiling for matvec: how fast plain vector loads stream a 256 MiB buffer on 1 and 2 threads.</summary>
internal static unsafe class MemoryBandwidth
{
    private sealed class ReadJob : IRangeJob
    {
        public byte* Data;
        public float Sink;

        public void Execute(int begin, int end)
        {
            var acc = Vector256<float>.Zero;
            for (long i = (long)begin * 4096; i < (long)end * 4096; i += 128)
            {
                acc += Vector256.Load((float*)(Data + i)) + Vector256.Load((float*)(Data + i + 32))
                    + Vector256.Load((float*)(Data + i + 64)) + Vector256.Load((float*)(Data + i + 96));
            }
            Sink += Vector256.Sum(acc);
        }
    }

    public static void Measure()
    {
        const long size = 256L << 20;
        byte* data = (byte*)NativeMemory.AlignedAlloc((nuint)size, 4096);
        new Span<byte>(data, (int)size).Fill(1);
        var job = new ReadJob { Data = data };
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new WorkerPool(threads);
            pool.Run(job, (int)(size / 4096), 256);
            var sw = Stopwatch.StartNew();
            int n = 0;
            while (sw.Elapsed.TotalSeconds < 1) { pool.Run(job, (int)(size / 4096), 256); n++; }
            Console.WriteLine($"read bandwidth threads={threads}: {size * n / sw.Elapsed.TotalSeconds / 1e9:F1} GB/s");
        }
        NativeMemory.AlignedFree(data);
    }
}
