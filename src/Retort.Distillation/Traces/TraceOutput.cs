using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Retort.Distillation.IO;
using Retort.Engine;

namespace Retort.Distillation.Traces;

/// <summary>
/// traces.jsonl opened for appending. On open it reads what earlier runs finished (their (id, sample)
/// keys) and repairs a torn last line left by a kill; each record is then written as one line and
/// flushed, so a kill loses at most the line being written.
/// </summary>
internal sealed class TraceOutput : IDisposable
{
    private readonly FileStream _stream;
    private readonly Lock _gate = new();

    private TraceOutput(FileStream stream, HashSet<(string, int)> done, long repairedBytes)
    {
        _stream = stream;
        Done = done;
        RepairedBytes = repairedBytes;
    }

    /// <summary>The (id, sample) pairs already in the file.</summary>
    public IReadOnlySet<(string Id, int Sample)> Done { get; }

    /// <summary>Bytes of a torn last line that were cut off (0 when the file ended cleanly).</summary>
    public long RepairedBytes { get; }

    public static TraceOutput Open(string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var stream = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var (done, repaired) = Scan(stream, path);
            stream.Seek(0, SeekOrigin.End);
            return new TraceOutput(stream, done, repaired);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static (HashSet<(string, int)> Done, long Repaired) Scan(FileStream stream, string path)
    {
        long length = stream.Length;
        long tailStart = LastNewline(stream) + 1;
        bool torn = false;
        if (tailStart < length)
        {
            // A record is written with its newline in one go; a tail without one was cut short by a kill
            // (unless it happens to be whole, when only the newline is missing).
            var tail = new byte[length - tailStart];
            stream.Seek(tailStart, SeekOrigin.Begin);
            stream.ReadExactly(tail);
            torn = !IsCompleteRecord(Encoding.UTF8.GetString(tail));
        }

        var done = new HashSet<(string, int)>();
        stream.Seek(0, SeekOrigin.Begin);
        using (var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true))
        {
            int number = 0;
            long completeLines = CountNewlinesBefore(tailStart, stream, reader);
            while (reader.ReadLine() is { } line)
            {
                number++;
                if (torn && number > completeLines) break;
                if (string.IsNullOrWhiteSpace(line)) continue;
                var record = JsonlFile.Parse(path, number, line);
                var key = TraceRecord.Key(record.Json)
                          ?? throw new RetortException($"{record.Where}: expected a trace record with \"id\" and \"sample\" (is this the right output file?)");
                done.Add(key);
            }
        }

        if (torn)
        {
            stream.SetLength(tailStart);
            stream.Flush(flushToDisk: true);
            return (done, length - tailStart);
        }
        if (tailStart < length)
        {
            stream.Seek(0, SeekOrigin.End);
            stream.WriteByte((byte)'\n');
            stream.Flush(flushToDisk: true);
        }
        return (done, 0);
    }

    /// <summary>The offset of the file's last '\n' (-1 when there is none), read backwards in blocks.</summary>
    private static long LastNewline(FileStream stream)
    {
        var block = new byte[1 << 16];
        long end = stream.Length;
        while (end > 0)
        {
            int count = (int)Math.Min(block.Length, end);
            stream.Seek(end - count, SeekOrigin.Begin);
            stream.ReadExactly(block, 0, count);
            int at = Array.LastIndexOf(block, (byte)'\n', count - 1, count);
            if (at >= 0) return end - count + at;
            end -= count;
        }
        return -1;
    }

    /// <summary>How many lines end before <paramref name="offset"/>, counted without decoding them.</summary>
    private static long CountNewlinesBefore(long offset, FileStream stream, StreamReader reader)
    {
        long count = 0;
        var block = new byte[1 << 16];
        stream.Seek(0, SeekOrigin.Begin);
        long left = offset;
        while (left > 0)
        {
            int n = stream.Read(block, 0, (int)Math.Min(block.Length, left));
            if (n == 0) break;
            count += block.AsSpan(0, n).Count((byte)'\n');
            left -= n;
        }
        stream.Seek(0, SeekOrigin.Begin);
        reader.DiscardBufferedData();
        return count;
    }

    private static bool IsCompleteRecord(string text)
    {
        try
        {
            return JsonNode.Parse(text) is JsonObject o && TraceRecord.Key(o) != null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public void Append(JsonObject record)
    {
        byte[] line = System.Text.Encoding.UTF8.GetBytes(JsonlFile.ToLine(record) + "\n");
        lock (_gate)
        {
            _stream.Write(line);
            _stream.Flush();
        }
    }

    public void Dispose() => _stream.Dispose();
}
