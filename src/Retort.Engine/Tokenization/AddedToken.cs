namespace Retort.Engine.Tokenization;

/// <summary>
/// A token matched whole in the input before pre-tokenization (tokenizer.json "added_tokens", or a
/// GGUF control/user-defined token). <see cref="Special"/> tokens are dropped by
/// <c>Decode(ids, skipSpecialTokens: true)</c>.
/// </summary>
public sealed record AddedToken(
    string Content,
    int Id,
    bool Special,
    bool LStrip = false,
    bool RStrip = false,
    bool SingleWord = false,
    bool Normalized = false);
