using Retort.Engine.Tokenization;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>Expectations from the Unicode normalization spec (UAX #15) examples.</summary>
public sealed class NfcTests
{
    [Theory]
    [InlineData("cafe\u0301", "caf\u00e9")]
    [InlineData("A\u030a", "\u00c5")]
    [InlineData("\u212b", "\u00c5")] // ANGSTROM SIGN is a singleton decomposition
    [InlineData("\u1e0b\u0323", "\u1e0d\u0307")] // marks reordered by class, then the dot below composes
    [InlineData("q\u0307\u0323", "q\u0323\u0307")] // no composite: only reordering
    [InlineData("\u1100\u1161\u11a8", "\uac01")] // Hangul jamo L V T
    [InlineData("\uac00\u11a8", "\uac01")] // LV syllable + T
    [InlineData("\u0958", "\u0915\u093c")] // composition exclusion stays decomposed
    [InlineData("e\u0301\u0301", "\u00e9\u0301")] // the second acute is blocked
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("鸡兔同笼 😀", "鸡兔同笼 😀")]
    public void Composes_like_the_standard(string input, string expected)
    {
        Assert.Equal(expected, Nfc.Normalize(input));
    }
}
