using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Retort.Engine.IO;

namespace Retort.Engine.Tokenization;

/// <summary>
/// A Split pre-tokenizer with a pattern this engine has no hand-written version of, run with .NET
/// regex, behaviour "Isolated": every match and every gap between matches becomes a piece.
/// </summary>
/// <remarks>
/// The pattern comes from a model file, so it may backtrack catastrophically (<c>(a+)+$</c>) on an
/// ordinary prompt. The backtracking engine is kept (RegexOptions.NonBacktracking cannot run the
/// lookahead <c>\s+(?!\S)</c> that every GPT-2-style pattern has, and on .NET 10 it drops matches
/// of patterns with an optional first element, such as <c> ?, ?</c> on " a,,", which is the shape of
/// <c> ?\p{L}+</c>: a tokenizer that silently disagrees with Hugging Face is worse than an error).
/// Instead each match may take <see cref="MatchTimeout"/>, and a whole Encode call may take that
/// plus <see cref="MicrosecondsPerCharacter"/> per character of its input, after which the split
/// ends with a RetortException naming the pattern.
/// </remarks>
internal sealed class RegexSplitter : ISplitter
{
    /// <summary>
    /// Time one match of a pattern from a file may take. A tokenizer pattern matches one pre-token (a
    /// word, a number, a run of spaces) in well under a microsecond, so a second is a million times
    /// that, yet it still bounds a server request or a chat turn to about a second.
    /// </summary>
    internal static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Time per input character an Encode call may spend in regex splitting on top of
    /// <see cref="MatchTimeout"/>: .NET's interpreter runs the Qwen2 pattern at tens of nanoseconds
    /// per character, so a megabyte of text gets about a second more, dozens of times what it needs,
    /// while a pattern that stays just under the per-match limit on every match cannot multiply it.
    /// </summary>
    internal const double MicrosecondsPerCharacter = 1.0;

    /// <summary>Longest pattern accepted (real tokenizers' are a few hundred characters).</summary>
    internal const int MaxPatternLength = 16 * 1024;

    private readonly Regex _regex;
    private readonly string _origin;

    private RegexSplitter(Regex regex, string origin)
    {
        _regex = regex;
        _origin = origin;
    }

    /// <summary>
    /// Compiles <paramref name="pattern"/> with the match timeout. <paramref name="origin"/> says where it
    /// comes from ("'…/tokenizer.json': pre_tokenizer Split pattern"); an invalid pattern is a
    /// RetortException naming it, and <paramref name="where"/> locates it in the file.
    /// </summary>
    public static RegexSplitter FromPattern(string pattern, string origin, string where)
    {
        string shown = $"{origin} {MessageText.Quote(pattern)}";
        if (pattern.Length > MaxPatternLength)
            throw new RetortException($"{origin} at {where}: expected a pattern of at most {MaxPatternLength} characters, found {pattern.Length}");
        try
        {
            return new RegexSplitter(new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout), shown);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InsufficientExecutionStackException)
        {
            throw new RetortException($"{shown} at {where} is not a valid .NET regular expression: {MessageText.OneLine(e.Message)}", e);
        }
    }

    /// <summary>A splitter that isolates every occurrence of a fixed string (Split's "String" pattern).</summary>
    public static RegexSplitter FromLiteral(string literal, string origin) =>
        new(new Regex(Regex.Escape(literal), RegexOptions.CultureInvariant, MatchTimeout), $"{origin} {MessageText.Quote(literal)}");

    /// <summary>The deadline for an Encode call over <paramref name="textLength"/> characters.</summary>
    public static long DeadlineFor(int textLength)
    {
        double seconds = MatchTimeout.TotalSeconds + textLength * MicrosecondsPerCharacter * 1e-6;
        return Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
    }

    public void Split(string text, int start, int length, List<(int Start, int Length)> output, long deadline)
    {
        int last = start;
        try
        {
            foreach (var m in _regex.EnumerateMatches(text.AsSpan(start, length)))
            {
                if (Stopwatch.GetTimestamp() > deadline) throw OutOfTime(length);
                if (m.Length == 0) continue;
                int s = start + m.Index;
                if (s > last) output.Add((last, s - last));
                output.Add((s, m.Length));
                last = s + m.Length;
            }
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new RetortException(
                $"{_origin} timed out after {Seconds(MatchTimeout.TotalSeconds)} on a {length}-character input: the pattern backtracks catastrophically", e);
        }
        if (last < start + length) output.Add((last, start + length - last));
    }

    private RetortException OutOfTime(int length) => new(
        $"{_origin} ran out of time on a {length}-character input (an Encode call may take {Seconds(MatchTimeout.TotalSeconds)} " +
        $"plus {MicrosecondsPerCharacter.ToString(CultureInfo.InvariantCulture)} µs per character): the pattern backtracks catastrophically");

    private static string Seconds(double s) => s.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}
