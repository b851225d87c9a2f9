using System.Threading.Channels;
using Retort.Engine.Generation;

namespace Retort.Server;

/// <summary>A generation under way on a slot, as its HTTP handler sees it: its text as it comes, then its result.</summary>
internal sealed class RunningGeneration(ScheduledSequence sequence)
{
    public ChannelReader<GenerationChunk> Chunks => sequence.Chunks;

    public Task<GenerationResult> Completion => sequence.Completion;

    /// <summary>Stops the generation (the reader went away); the scheduler frees the slot at its next step.</summary>
    public void Cancel() => sequence.RequestCancel();
}
