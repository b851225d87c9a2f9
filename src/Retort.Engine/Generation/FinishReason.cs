namespace Retort.Engine.Generation;

/// <summary>Why generation ended (named as the OpenAI API names them, plus cancellation).</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token or a stop string.</summary>
    Stop,

    /// <summary>The token limit or the context size was reached.</summary>
    Length,

    /// <summary>The caller cancelled (Ctrl-C, a closed connection).</summary>
    Cancelled,
}
