using System.Text;
using Retort.Engine.Tokenization;
using Retort.Tests.Support;

namespace Retort.Engine.Tests.Tokenization;

/// <summary>models/retort-tiny-tokenizer, the byte-level BPE of the demo and the built-in model (tools/train-bpe.py).</summary>
public sealed class DemoTokenizerTests
{
    private static Tokenizer Load() => Tokenizer.FromTokenizerJson(
        Fixtures.RepositoryPath("models", "retort-tiny-tokenizer", "tokenizer.json"),
        Fixtures.RepositoryPath("models", "retort-tiny-tokenizer", "tokenizer_config.json"));

    [Theory]
    [InlineData("笼子里有若干只鸡和兔子，从上面数有35个头，从下面数有94只脚。问笼中有多少只兔子？")]
    [InlineData("甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。")]
    [InlineData("Solve 3x + 7 = 22. Move the constant: 3x = 15, so x = 5.\n\nAll bloops are razzies.")]
    public void ChineseAndEnglishRoundTripInFewerTokensThanBytes(string text)
    {
        var tokenizer = Load();
        int[] ids = tokenizer.Encode(text);
        Assert.Equal(text, tokenizer.Decode(ids));
        // 500 merges learned from the task text: the common words are single tokens.
        Assert.True(ids.Length < Encoding.UTF8.GetByteCount(text) * 3 / 4, $"{ids.Length} tokens for {Encoding.UTF8.GetByteCount(text)} bytes");
    }

    [Fact]
    public void R1SpecialTokensAreSingleIdsAfterTheBpeVocabulary()
    {
        var tokenizer = Load();
        Assert.Equal(762, tokenizer.VocabSize);
        Assert.Equal(759, tokenizer.BosTokenId);
        Assert.Equal([757], tokenizer.Encode("<｜User｜>"));
        Assert.Equal([758], tokenizer.Encode("<｜Assistant｜>"));
        Assert.Equal([760], tokenizer.Encode("<think>"));
        Assert.Equal([761], tokenizer.Encode("</think>"));
        Assert.Equal([756], tokenizer.Encode("<｜end▁of▁sentence｜>"));
    }
}
