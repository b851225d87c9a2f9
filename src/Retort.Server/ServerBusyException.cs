namespace Retort.Server;

/// <summary>Every slot is busy and the queue is full.</summary>
internal sealed class ServerBusyException() : Exception("the server is busy: every slot is generating and the queue is full");
