using System.Text;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>
/// Just enough of a GGUF key/value reader to get the tokenizer metadata out of a fixture file, so
/// FromVocabulary can be checked against what llama.cpp's converter really writes, independently
/// of the engine's own GGUF reader.
/// </summary>
internal static class GgufTokenizerMetadata
{
    public static Dictionary<string, object> Read(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        if (reader.ReadUInt32() != 0x46554747) throw new InvalidDataException($"{path} is not GGUF");
        uint version = reader.ReadUInt32();
        if (version < 2) throw new InvalidDataException($"{path}: GGUF v{version}");
        reader.ReadUInt64(); // tensor count
        ulong count = reader.ReadUInt64();
        var kv = new Dictionary<string, object>();
        for (ulong i = 0; i < count; i++)
        {
            string key = ReadString(reader);
            kv[key] = ReadValue(reader, reader.ReadUInt32());
        }
        return kv;
    }

    private static string ReadString(BinaryReader r) => Encoding.UTF8.GetString(r.ReadBytes(checked((int)r.ReadUInt64())));

    private static object ReadValue(BinaryReader r, uint type) => type switch
    {
        0 => r.ReadByte(),
        1 => r.ReadSByte(),
        2 => r.ReadUInt16(),
        3 => r.ReadInt16(),
        4 => r.ReadUInt32(),
        5 => r.ReadInt32(),
        6 => r.ReadSingle(),
        7 => r.ReadBoolean(),
        8 => ReadString(r),
        9 => ReadArray(r),
        10 => r.ReadUInt64(),
        11 => r.ReadInt64(),
        12 => r.ReadDouble(),
        _ => throw new InvalidDataException($"GGUF value type {type}"),
    };

    private static List<object> ReadArray(BinaryReader r)
    {
        uint type = r.ReadUInt32();
        ulong n = r.ReadUInt64();
        var list = new List<object>(checked((int)n));
        for (ulong i = 0; i < n; i++) list.Add(ReadValue(r, type));
        return list;
    }
}
