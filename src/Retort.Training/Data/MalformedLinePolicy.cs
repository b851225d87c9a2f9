namespace Retort.Training.Data;

/// <summary>What reading a JSONL data set does with a line it cannot use.</summary>
public enum MalformedLinePolicy
{
    /// <summary>Stop with an error naming the file and line.</summary>
    Stop,

    /// <summary>Report the line (file, line number, reason) and go on without it.</summary>
    Skip,
}
