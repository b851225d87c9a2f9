namespace Retort.Distillation.Traces;

/// <summary>What a generate run did: samples wanted, found already written, written now, and the ones the server refused.</summary>
public sealed record TraceGenerationSummary(
    int Requested,
    int AlreadyDone,
    int Written,
    long RepairedBytes,
    IReadOnlyList<string> Rejected);
