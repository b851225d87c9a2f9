namespace Retort.Engine.Tensors;

/// <summary>
/// Named tensors plus the memory that holds them (memory-mapped files). Disposing the store
/// unmaps the memory: no <see cref="TensorData"/> from it may be used afterwards.
/// </summary>
public interface ITensorStore : IDisposable
{
    IReadOnlyDictionary<string, TensorData> Tensors { get; }
}
