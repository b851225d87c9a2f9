namespace Retort.Engine.Tokenization;

/// <summary>One step of pre-tokenization: cuts a piece of text into smaller pieces.</summary>
internal interface ISplitter
{
    /// <summary>
    /// Appends the pieces of text[start..start+length] as (start, length) pairs that cover it.
    /// <paramref name="deadline"/> (a <see cref="System.Diagnostics.Stopwatch"/> timestamp) is when the
    /// whole Encode call that this split belongs to must give up; splitters that cannot take long ignore it.
    /// </summary>
    void Split(string text, int start, int length, List<(int Start, int Length)> output, long deadline);
}
