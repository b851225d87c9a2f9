namespace Retort.Server;

/// <summary>A request the server refuses, turned into an OpenAI-style error object with this status.</summary>
internal sealed class ApiException(int status, string message, string type = "invalid_request_error", string? code = null,
    string? param = null)
    : Exception(message)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string? Code { get; } = code;

    /// <summary>The request field at fault, when there is one (OpenAI's "param").</summary>
    public string? Param { get; } = param;
}
