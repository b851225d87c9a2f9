namespace Retort.Server;

/// <summary>A prompt as text (to see whether it opens a think block) and as tokens.</summary>
internal sealed record Prompt(string Text, int[] Tokens);
