namespace Retort.Distillation.Tasks;

/// <summary>
/// Which phrasings a run draws from. Each family's prompts come from a small grammar (templates with
/// synonym slots) in which some templates and synonyms are reserved for evaluation: <see cref="Training"/>
/// never uses them, <see cref="Heldout"/> always uses at least one, so a held-out prompt's wording (numbers
/// aside) never occurs in training data. <see cref="All"/> draws from everything.
/// </summary>
public enum PhrasingSplit
{
    All,
    Training,
    Heldout,
}
