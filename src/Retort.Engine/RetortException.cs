namespace Retort.Engine;

/// <summary>
/// A user-facing failure: bad input, a malformed file, an unsupported model. The message is one
/// line saying what went wrong and where (file, offset, tensor, expected vs found), so the CLI can
/// print it as is and exit non-zero instead of showing a stack trace.
/// </summary>
public sealed class RetortException : Exception
{
    public RetortException(string message) : base(message) { }

    public RetortException(string message, Exception inner) : base(message, inner) { }
}
