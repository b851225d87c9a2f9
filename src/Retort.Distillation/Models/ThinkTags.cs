using Retort.Engine.Generation;

namespace Retort.Distillation.Models;

/// <summary>
/// Splits "&lt;think&gt;…&lt;/think&gt;answer" text into reasoning and answer. R1 chat templates open the
/// think block in the prompt, so servers that return raw content often start mid-reasoning with only
/// the closing tag; both shapes are handled.
/// </summary>
internal static class ThinkTags
{
    public static (string Reasoning, string Answer) Split(string content)
    {
        string trimmed = content.TrimStart();
        bool opensInPrompt = !trimmed.StartsWith(ReasoningSplitter.OpenTag, StringComparison.Ordinal)
                             && content.Contains(ReasoningSplitter.CloseTag, StringComparison.Ordinal);
        var splitter = new ReasoningSplitter(opensInPrompt);
        splitter.Push(content);
        splitter.Flush();
        return (splitter.Reasoning, splitter.Answer);
    }

    /// <summary>The text a trainer sees: "&lt;think&gt;\nREASONING\n&lt;/think&gt;\n\nANSWER".</summary>
    public static string Render(string reasoning, string answer) =>
        $"{ReasoningSplitter.OpenTag}\n{reasoning}\n{ReasoningSplitter.CloseTag}\n\n{answer}";
}
