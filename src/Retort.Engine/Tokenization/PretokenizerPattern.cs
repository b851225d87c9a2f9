namespace Retort.Engine.Tokenization;

/// <summary>The split regexes of the tokenizers this engine knows, implemented by hand.</summary>
internal enum PretokenizerPattern
{
    Gpt2,
    Llama3,
    Qwen2,
}
