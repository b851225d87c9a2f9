using System.Threading.Channels;
using Retort.Engine.Generation;

namespace Retort.Server;

/// <summary>A generation under way on a slot: its text as it comes, then its result.</summary>
internal sealed class RunningGeneration(ChannelReader<GenerationChunk> chunks, Task<GenerationResult> completion,
    CancellationTokenSource cancellation)
{
    public ChannelReader<GenerationChunk> Chunks { get; } = chunks;

    public Task<GenerationResult> Completion { get; } = completion;

    /// <summary>Stops the generation (the reader went away); the slot is freed when it has stopped.</summary>
    public void Cancel()
    {
        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished and cleaned up.
        }
    }
}
