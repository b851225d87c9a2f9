namespace Retort.Server;

/// <summary>No request can start now (every slot is busy, or the KV pages it may need are taken) and the queue is full.</summary>
internal sealed class ServerBusyException() : Exception("the server is busy: every slot is generating or the KV cache pages are taken, and the queue is full");
