using System.Text;
using Retort.Engine.Generation;

namespace Retort.Server;

/// <summary>
/// Puts reasoning back between &lt;think&gt; tags for clients that asked for the text as the model
/// wrote it (raw completions, Ollama without "think").
/// </summary>
internal sealed class TaggedText
{
    private TextKind? _last;

    public string Push(GenerationChunk chunk)
    {
        var sb = new StringBuilder();
        if (chunk.Kind == TextKind.Reasoning && _last != TextKind.Reasoning) sb.Append(ReasoningSplitter.OpenTag).Append('\n');
        if (chunk.Kind == TextKind.Answer && _last == TextKind.Reasoning) sb.Append('\n').Append(ReasoningSplitter.CloseTag).Append("\n\n");
        _last = chunk.Kind;
        return sb.Append(chunk.Text).ToString();
    }

    /// <summary>Closes a reasoning block the model left open.</summary>
    public string Finish() => _last == TextKind.Reasoning ? "\n" + ReasoningSplitter.CloseTag : "";

    public static string Join(GenerationResult r) =>
        r.Reasoning.Length == 0 ? r.Answer : $"{ReasoningSplitter.OpenTag}\n{r.Reasoning}\n{ReasoningSplitter.CloseTag}\n\n{r.Answer}";
}
