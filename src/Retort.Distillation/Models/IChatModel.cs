namespace Retort.Distillation.Models;

/// <summary>
/// Something that answers one user prompt: a remote OpenAI-compatible endpoint or a local model. Teachers
/// (trace generation) and evaluated models are the same thing to Retort; tests substitute fakes here.
/// </summary>
public interface IChatModel
{
    /// <summary>What reports and trace records call it (the model id, or the file name of a local model).</summary>
    string Name { get; }

    /// <summary>Answers <paramref name="prompt"/> as a single user turn. Cancellation throws <see cref="OperationCanceledException"/>.</summary>
    Task<ChatReply> CompleteAsync(string prompt, ChatSampling sampling, CancellationToken cancellationToken);
}
