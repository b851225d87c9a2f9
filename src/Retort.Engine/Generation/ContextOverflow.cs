namespace Retort.Engine.Generation;

/// <summary>What a chat does when the conversation no longer fits the context.</summary>
public enum ContextOverflow
{
    /// <summary>Refuse the turn with a clear error.</summary>
    Error,

    /// <summary>Forget the oldest turns (the system prompt stays) until the conversation fits.</summary>
    DropOldest,
}
