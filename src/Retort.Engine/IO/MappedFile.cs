using System.IO.MemoryMappedFiles;

namespace Retort.Engine.IO;

/// <summary>
/// A whole file mapped read-only with one pointer acquired for its lifetime, so tensor data can be
/// handed out as raw pointers without per-access bookkeeping. An empty file is not mapped (the OS
/// refuses zero-length mappings); its pointer is null and its length 0.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _pointer;

    private MappedFile(string path, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* pointer)
    {
        Path = path;
        Length = length;
        _map = map;
        _view = view;
        _pointer = pointer;
    }

    public string Path { get; }

    public long Length { get; }

    public byte* Pointer => _pointer;

    public static MappedFile Open(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new RetortException($"cannot open '{path}': {e.Message}", e);
        }

        long length = stream.Length;
        if (length == 0)
        {
            stream.Dispose();
            return new MappedFile(path, 0, null, null, null);
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new MappedFile(path, length, map, view, p + view.PointerOffset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw new RetortException($"cannot memory-map '{path}': {e.Message}", e);
        }
    }

    /// <summary>The bytes [offset, offset+count) as a span; the caller has bounds-checked them.</summary>
    public ReadOnlySpan<byte> Span(long offset, int count) => new(_pointer + offset, count);

    public void Dispose()
    {
        if (_view != null && _pointer != null)
        {
            _pointer = null;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
