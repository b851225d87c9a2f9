using System.Text;

namespace Retort.Distillation.IO;

/// <summary>
/// Writes a whole file or nothing: the bytes go to a temporary file in the same folder, which then
/// replaces the target in one rename, so a crash or a full disk never leaves a half-written data set.
/// </summary>
internal static class AtomicFile
{
    public static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteText(string path, string text) => Write(path, s => s.Write(Utf8.GetBytes(text)));

    public static void WriteLines(string path, IEnumerable<string> lines) => Write(path, s =>
    {
        using var writer = new StreamWriter(s, Utf8, leaveOpen: true) { NewLine = "\n" };
        foreach (string line in lines) writer.WriteLine(line);
    });
}
