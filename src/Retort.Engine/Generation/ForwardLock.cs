namespace Retort.Engine.Generation;

/// <summary>
/// Serializes the forward passes of generators that share one model: the transformer's scratch
/// buffers and worker pool serve one pass at a time. Waiters are served first come, first served,
/// so concurrent sequences interleave token by token instead of one starving the others.
/// </summary>
public sealed class ForwardLock
{
    private readonly object _gate = new();
    private long _nextTicket;
    private long _serving;

    public void Enter()
    {
        lock (_gate)
        {
            long ticket = _nextTicket++;
            while (ticket != _serving) Monitor.Wait(_gate);
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            _serving++;
            Monitor.PulseAll(_gate);
        }
    }
}
