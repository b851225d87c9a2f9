namespace Retort.Distillation.Evaluation;

/// <summary>
/// Whether an answer is right: for code, by running the item's hidden tests; otherwise by extracting the
/// final answer in the reference's form and comparing. Evaluation and cleaning both decide through here.
/// </summary>
internal static class AnswerCheck
{
    public static (string? Extracted, CodeTestOutcome Outcome) Check(string text, EvalItem item, PythonTestRunner runner)
    {
        if (item.Tests is { } tests)
        {
            string? code = AnswerExtractor.ExtractCode(text);
            if (code == null) return (null, CodeTestOutcome.Failed);
            return (code, runner.Run(code, tests).Outcome);
        }
        string? extracted = AnswerExtractor.Extract(text, item.Reference);
        return (extracted, AnswerNormalizer.Equivalent(extracted, item.Reference) ? CodeTestOutcome.Passed : CodeTestOutcome.Failed);
    }
}
