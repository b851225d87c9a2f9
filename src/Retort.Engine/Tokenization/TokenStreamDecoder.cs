using System.Runtime.InteropServices;
using System.Text;

namespace Retort.Engine.Tokenization;

/// <summary>
/// Decodes ids one at a time. A token may end in the middle of a UTF-8 character (byte-level BPE
/// splits emoji and CJK across tokens), so those bytes are held back until the character is
/// complete. The concatenation of every <see cref="Push"/> and the final <see cref="Flush"/>
/// equals <see cref="Tokenizer.Decode"/> of all the ids.
/// </summary>
public sealed class TokenStreamDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<byte> _pending = [];

    public TokenStreamDecoder(Tokenizer tokenizer, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>Adds one id; returns the text it completes (possibly empty).</summary>
    public string Push(int id)
    {
        _tokenizer.AppendBytes(id, _skipSpecialTokens, _pending);
        int keep = IncompleteTailLength(CollectionsMarshal.AsSpan(_pending));
        int ready = _pending.Count - keep;
        if (ready == 0) return string.Empty;
        string text = Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(_pending)[..ready]);
        _pending.RemoveRange(0, ready);
        return text;
    }

    /// <summary>Returns whatever is held back (an unfinished character becomes U+FFFD) and resets.</summary>
    public string Flush()
    {
        string text = Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }

    /// <summary>
    /// Length of a trailing sequence that is a valid but unfinished UTF-8 character. It starts at a
    /// lead byte, which a decoder never consumes as part of an earlier sequence, so decoding the
    /// bytes before it now gives the same text as decoding everything later.
    /// </summary>
    internal static int IncompleteTailLength(ReadOnlySpan<byte> bytes)
    {
        for (int back = 1; back <= 3 && back <= bytes.Length; back++)
        {
            byte lead = bytes[^back];
            if (lead < 0x80) return 0;
            if (lead < 0xC0) continue; // continuation byte: keep looking for the lead
            int need = lead switch
            {
                >= 0xC2 and <= 0xDF => 2,
                >= 0xE0 and <= 0xEF => 3,
                >= 0xF0 and <= 0xF4 => 4,
                _ => 0,
            };
            if (need <= back) return 0;
            // The second byte's allowed range depends on the lead (no overlongs, surrogates or > U+10FFFF).
            if (back >= 2)
            {
                byte second = bytes[^(back - 1)];
                (byte lo, byte hi) = lead switch
                {
                    0xE0 => ((byte)0xA0, (byte)0xBF),
                    0xED => ((byte)0x80, (byte)0x9F),
                    0xF0 => ((byte)0x90, (byte)0xBF),
                    0xF4 => ((byte)0x80, (byte)0x8F),
                    _ => ((byte)0x80, (byte)0xBF),
                };
                if (second < lo || second > hi) return 0;
            }
            return back;
        }
        return 0;
    }
}
