namespace Retort.Distillation.Models;

/// <summary>
/// The server refused one particular request (400, 413, 422: too long, bad content), as opposed to being
/// unreachable or refusing everyone; trace generation records it and goes on with the other prompts.
/// </summary>
internal sealed class PromptRejectedException(string message) : Exception(message);
