using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Retort.Engine;
using Retort.Engine.IO;
using Retort.Engine.Tokenization;
using Retort.Training.Data;
using Retort.Training.Losses;
using Retort.Training.Model;

namespace Retort.Training.Loop;

/// <summary>
/// Precomputed teacher signal: per position of every example, the teacher's top-k token ids and
/// log-probabilities at T = 1, so a large teacher runs once and not every epoch. Little-endian:
/// <code>
/// 0    8     magic "RTTOPK01"
/// 8    4     int32 vocabulary V (the loss vocabulary, min(tokenizer, head))
/// 12   4     int32 k
/// 16   32    SHA-256 of the tokenizer (each token's text in UTF-8 and a 0 byte, ids 0..size−1)
/// 48   32    SHA-256 of the data (per example: int32 length, then its int32 token ids)
/// 80   4     int32 examples E
/// 84   4·E   int32 positions of each example (its token count)
/// ...        per example, per position: k × (int32 token id, float32 log p), highest first
/// </code>
/// Training rebuilds each position's distribution as the top-k probabilities plus the remaining
/// mass 1 − Σ top-k spread evenly over the other V − k tokens (see <see cref="PrecomputedTeacher"/>).
/// </summary>
public static class TeacherLogitsFile
{
    private static readonly byte[] Magic = "RTTOPK01"u8.ToArray();
    private const int HeaderBytes = 84;

    /// <summary>Runs the teacher over every example and writes the file atomically; reports examples done.</summary>
    public static void Write(string path, ITeacher teacher, IReadOnlyList<TrainingExample> examples, Tokenizer tokenizer, int vocabulary, int topK,
        IProgress<int>? progress = null)
    {
        if (topK < 1 || topK > vocabulary) throw new RetortException($"--top-k must lie in [1, {vocabulary}] (the vocabulary), found {topK}");
        if (examples.Count == 0) throw new RetortException("no examples to run the teacher on");
        AtomicFile.Write(path, stream =>
        {
            var header = new byte[HeaderBytes + 4 * examples.Count];
            Magic.CopyTo(header, 0);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), vocabulary);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), topK);
            TokenizerHash(tokenizer).CopyTo(header, 16);
            DataHash(examples).CopyTo(header, 48);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(80), examples.Count);
            for (int e = 0; e < examples.Count; e++) BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(HeaderBytes + 4 * e), examples[e].Length);
            stream.Write(header);

            var logp = new double[vocabulary];
            var order = new int[vocabulary];
            var record = new byte[8 * topK];
            for (int e = 0; e < examples.Count; e++)
            {
                var tokens = examples[e].Tokens;
                var batch = new TrainingBatch(1, tokens.Length, tokens, Enumerable.Repeat(TokenLosses.IgnoreIndex, tokens.Length).ToArray(),
                    Enumerable.Range(0, tokens.Length).ToArray(), new int[tokens.Length]);
                var logits = teacher.Logits(batch, vocabulary);
                for (int t = 0; t < tokens.Length; t++)
                {
                    TokenLosses.LogSoftmax(logits.AsSpan(t * vocabulary, vocabulary), 1, logp);
                    for (int v = 0; v < vocabulary; v++) order[v] = v;
                    // Ties go to the lower id so the file does not depend on the sort's stability.
                    Array.Sort(order, (a, b) => logp[a] != logp[b] ? logp[b].CompareTo(logp[a]) : a.CompareTo(b));
                    for (int j = 0; j < topK; j++)
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(8 * j), order[j]);
                        BinaryPrimitives.WriteSingleLittleEndian(record.AsSpan(8 * j + 4), (float)logp[order[j]]);
                    }
                    stream.Write(record);
                }
                progress?.Report(e + 1);
            }
        });
    }

    /// <summary>Reads the file for training on <paramref name="examples"/>; a file made for other data or another tokenizer is refused.</summary>
    public static PrecomputedTeacher Read(string path, IReadOnlyList<TrainingExample> examples, Tokenizer tokenizer)
    {
        if (!File.Exists(path)) throw new RetortException($"teacher logits not found: '{path}'");
        if (new FileInfo(path).Length > Array.MaxLength)
            throw new RetortException($"{path}: {new FileInfo(path).Length} bytes, more than the {Array.MaxLength} a teacher-logits file may hold here; use a smaller --top-k or split the data");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderBytes || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new RetortException($"{path}: not a Retort teacher-logits file (expected magic RTTOPK01)");
        int vocabulary = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        int k = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        if (!bytes.AsSpan(16, 32).SequenceEqual(TokenizerHash(tokenizer)))
            throw new RetortException($"{path}: made with another tokenizer than the student's (tokenizer hash differs); rerun `retort distill teacher-logits` with the student's tokenizer");
        if (!bytes.AsSpan(48, 32).SequenceEqual(DataHash(examples)))
            throw new RetortException($"{path}: made for other data (data hash differs from the {examples.Count} examples read now); rerun `retort distill teacher-logits` on this data");
        int count = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(80));
        if (k < 1 || k > vocabulary || count != examples.Count)
            throw new RetortException($"{path}: inconsistent header (k {k}, vocabulary {vocabulary}, {count} examples)");
        var offsets = new long[count + 1];
        for (int e = 0; e < count; e++)
            offsets[e + 1] = offsets[e] + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(HeaderBytes + 4 * e));
        long expected = HeaderBytes + 4L * count + offsets[count] * k * 8;
        if (bytes.Length != expected) throw new RetortException($"{path}: {bytes.Length} bytes, expected {expected} (truncated or corrupt)");
        var ids = new int[offsets[count] * k];
        var logp = new float[ids.Length];
        int start = HeaderBytes + 4 * count;
        for (long i = 0; i < ids.Length; i++)
        {
            ids[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)(start + 8 * i)));
            logp[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(start + 8 * i + 4)));
            if ((uint)ids[i] >= (uint)vocabulary) throw new RetortException($"{path}: token id {ids[i]} at entry {i} is outside the vocabulary of {vocabulary}");
        }
        return new PrecomputedTeacher(path, examples, vocabulary, k, offsets, ids, logp);
    }

    internal static byte[] TokenizerHash(Tokenizer tokenizer)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(tokenizer.TokenText(id)));
            sha.AppendData([0]);
        }
        return sha.GetHashAndReset();
    }

    internal static byte[] DataHash(IReadOnlyList<TrainingExample> examples)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[4];
        foreach (var example in examples)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, example.Length);
            sha.AppendData(buffer);
            foreach (int token in example.Tokens)
            {
                BinaryPrimitives.WriteInt32LittleEndian(buffer, token);
                sha.AppendData(buffer);
            }
        }
        return sha.GetHashAndReset();
    }
}
