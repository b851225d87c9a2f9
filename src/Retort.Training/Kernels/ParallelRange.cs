using Retort.Engine.Kernels;

namespace Retort.Training.Kernels;

/// <summary>
/// Runs a body over [0, count) in chunks on the worker pool (or inline without one). For the
/// per-token passes between the matrix products (norms, activations, RoPE): they are cheap per
/// row but not free, and left serial they would cap the speed-up of the whole step.
/// </summary>
internal sealed class ParallelRange(WorkerPool? pool) : IRangeJob
{
    private Action<int, int>? _body;

    public void For(int count, int grain, Action<int, int> body)
    {
        if (count <= 0) return;
        if (pool == null || count <= grain)
        {
            body(0, count);
            return;
        }
        _body = body;
        try
        {
            pool.Run(this, count, grain);
        }
        finally
        {
            _body = null;
        }
    }

    public void Execute(int begin, int end) => _body!(begin, end);
}
