namespace Retort.Distillation.Cleaning;

/// <summary>Why a trace was dropped, in the order the checks run (the first failing check names the reason).</summary>
public enum DropReason
{
    /// <summary>No prompt, or neither reasoning/answer fields nor a completion text.</summary>
    MissingFields,

    /// <summary>The reasoning never ended: cut off by the token limit, or a stray &lt;think&gt;/&lt;/think&gt; tag left in the text.</summary>
    ThinkNotClosed,

    /// <summary>Nothing after the reasoning.</summary>
    NoAnswer,

    /// <summary>Special tokens such as &lt;｜end▁of▁sentence｜&gt; or &lt;|im_end|&gt; leaked into the text.</summary>
    SpecialTokens,

    /// <summary>References were given but none matches this trace's id or prompt.</summary>
    NoReference,

    /// <summary>The extracted final answer differs from the reference (or a code answer fails its tests).</summary>
    WrongAnswer,

    /// <summary>A code answer whose tests could not be run (no Python interpreter): not kept unverified.</summary>
    CodeUnchecked,

    TooShort,

    TooLong,

    ExactDuplicate,

    NearDuplicate,
}
