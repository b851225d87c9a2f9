using Retort.Distillation.Evaluation;

namespace Retort.Distillation.Cleaning;

/// <summary>Reference problems looked up by id, or by the prompt text when ids differ between files.</summary>
internal sealed class ReferenceIndex
{
    private readonly Dictionary<string, EvalItem> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EvalItem> _byPrompt = new(StringComparer.Ordinal);

    public ReferenceIndex(IEnumerable<EvalItem> items)
    {
        foreach (var item in items)
        {
            _byId.TryAdd(item.Id, item);
            _byPrompt.TryAdd(item.Question.Trim(), item);
        }
    }

    public EvalItem? Find(string? id, string prompt) =>
        id != null && _byId.TryGetValue(id, out var byId) ? byId
        : _byPrompt.TryGetValue(prompt.Trim(), out var byPrompt) ? byPrompt
        : null;
}
