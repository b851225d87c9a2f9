using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Retort.Distillation.Evaluation;
using Retort.Distillation.IO;
using Retort.Distillation.Models;
using Retort.Engine;
using Retort.Engine.Generation;
using Retort.Engine.IO;

namespace Retort.Distillation.Cleaning;

/// <summary>
/// Filters a traces file into SFT data. Checks run in this order, and the first that fails names the
/// reason: fields present, reasoning closed, answer present, no leaked special tokens, answer right
/// (when references are given; code by running its tests), token length within bounds, not an exact duplicate, not a near-duplicate
/// of a trace kept earlier. Kept lines are written unchanged, in input order, atomically.
/// </summary>
public static partial class TraceCleaner
{
    public static CleaningReport Clean(string inputPath, string outputPath, CleaningOptions options)
    {
        if (options.MinTokens < 0 || options.MaxTokens < options.MinTokens)
            throw new RetortException($"token bounds must satisfy 0 ≤ --min-tokens ≤ --max-tokens, found {options.MinTokens} and {options.MaxTokens}");
        if (options.NearDuplicateThreshold is <= 0 or double.NaN)
            throw new RetortException($"--near-dup-threshold must be in (0, 1] (above 1 turns it off), found {options.NearDuplicateThreshold}");
        if (Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath))
            throw new RetortException($"'{outputPath}' is the input file: write the cleaned traces to another path");

        var references = options.References is { } refs ? new ReferenceIndex(refs) : null;
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var near = options.NearDuplicateThreshold <= 1 ? new MinHash(options.NearDuplicateThreshold) : null;
        var dropped = new Dictionary<DropReason, int>();
        var kept = new List<string>();
        int input = 0;
        foreach (var line in JsonlFile.Read(inputPath))
        {
            input++;
            var reason = Check(line, options, references, exact, near);
            if (reason is DropReason r) dropped[r] = dropped.GetValueOrDefault(r) + 1;
            else kept.Add(line.Text);
        }
        AtomicFile.WriteLines(outputPath, kept);
        return new CleaningReport(input, kept.Count, dropped, options);
    }

    private static DropReason? Check(JsonlLine line, CleaningOptions options, ReferenceIndex? references, HashSet<string> exact, MinHash? near)
    {
        string? prompt = line.GetString("prompt", "question", "problem");
        string? reasoning = line.GetString("reasoning", "reasoning_content");
        string? answer = line.GetString("answer");
        bool closed = true;
        if (reasoning == null && line.GetString("completion", "response", "output", "text") is { } completion)
        {
            closed = !completion.Contains(ReasoningSplitter.OpenTag, StringComparison.Ordinal)
                     || completion.Contains(ReasoningSplitter.CloseTag, StringComparison.Ordinal);
            (reasoning, answer) = ThinkTags.Split(completion);
        }
        if (prompt == null || reasoning == null || answer == null) return DropReason.MissingFields;

        bool strayTag = reasoning.Contains("<think>", StringComparison.Ordinal) || reasoning.Contains("</think>", StringComparison.Ordinal)
                        || answer.Contains("<think>", StringComparison.Ordinal) || answer.Contains("</think>", StringComparison.Ordinal);
        if (!closed || strayTag || line.GetString("finish_reason") == "length") return DropReason.ThinkNotClosed;
        if (string.IsNullOrWhiteSpace(answer)) return DropReason.NoAnswer;
        if (HasSpecialToken(prompt + reasoning + answer, options.SpecialTokens)) return DropReason.SpecialTokens;

        if (references != null)
        {
            var reference = references.Find(line.GetString("id"), prompt);
            if (reference == null) return DropReason.NoReference;
            var (_, outcome) = AnswerCheck.Check(answer, reference, options.CodeRunner);
            if (outcome == CodeTestOutcome.Failed) return DropReason.WrongAnswer;
            if (outcome == CodeTestOutcome.Unchecked) return DropReason.CodeUnchecked;
        }

        int tokens = options.CountTokens is { } count
            ? count(ThinkTags.Render(reasoning, answer))
            : (int?)line.Json["usage"]?["completion_tokens"]?.GetValue<int>()
              ?? throw new RetortException($"{line.Where}: no token count (usage.completion_tokens); give --tokenizer MODEL to count tokens");
        if (tokens < options.MinTokens) return DropReason.TooShort;
        if (tokens > options.MaxTokens) return DropReason.TooLong;

        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(prompt.Trim() + "\0" + reasoning.Trim() + "\0" + answer.Trim())));
        if (!exact.Add(key)) return DropReason.ExactDuplicate;
        if (near != null && near.IsDuplicateOrAdd(prompt + "\n" + reasoning + "\n" + answer)) return DropReason.NearDuplicate;
        return null;
    }

    private static bool HasSpecialToken(string text, IReadOnlyList<string> extra)
    {
        if (SpecialTokenShape().IsMatch(text)) return true;
        foreach (string token in extra)
            if (token.Length > 0 && token != ReasoningSplitter.OpenTag && token != ReasoningSplitter.CloseTag
                && text.Contains(token, StringComparison.Ordinal))
                return true;
        return false;
    }

    // DeepSeek's <｜…｜> (full-width bars) and the <|…|> of ChatML, Llama 3 and friends.
    [GeneratedRegex(@"<｜[^｜\n]{1,64}｜>|<\|[^|\s]{1,64}\|>")]
    private static partial Regex SpecialTokenShape();
}
