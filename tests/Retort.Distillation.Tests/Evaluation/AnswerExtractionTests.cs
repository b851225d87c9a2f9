using Retort.Distillation.Evaluation;

namespace Retort.Distillation.Tests.Evaluation;

public sealed class AnswerExtractionTests
{
    [Theory]
    [InlineData("The answer is \\boxed{42}.", false, "42")]
    [InlineData("first \\boxed{\\frac{1}{2}}, then finally \\boxed{\\frac{7}{12}}", false, "\\frac{7}{12}")]
    [InlineData("\\boxed{\\text{(C)}}", true, "\\text{(C)}")]
    [InlineData("set \\boxed{\\{1,2\\}} done", false, "\\{1,2\\}")]
    [InlineData("\\fbox{7} is it", false, "7")]
    [InlineData("Natalia sold 48/2 = 24 clips in May.\n#### 72", false, "72")]
    [InlineData("#### 1,234\n", false, "1,234")]
    [InlineData("He pays 1,234 dollars in total", false, "1,234")]
    [InlineData("The probability is 7/12.", false, "7/12")]
    [InlineData("so p = \\frac{5}{11}", false, "\\frac{5}{11}")]
    [InlineData("That is 12.5% of the total", false, "12.5%")]
    [InlineData("x = -3", false, "-3")]
    [InlineData("unclosed \\boxed{12 and then 5", false, "5")]
    [InlineData("甲获胜的概率是 6/11。", false, "6/11")]
    [InlineData("Option B does not follow. So the answer is C.", true, "C")]
    [InlineData("所以答案是 B。", true, "B")]
    [InlineData("I think (D) is right", true, "D")]
    [InlineData("no digits here", false, null)]
    [InlineData("", false, null)]
    public void FindsTheFinalAnswer(string output, bool choice, string? expected) =>
        Assert.Equal(expected, AnswerExtractor.Extract(output, choice));

    [Theory]
    [InlineData("1,234", "1234", true)]
    [InlineData("1234.0", "1234", true)]
    [InlineData("1234.00", "1,234", true)]
    [InlineData("\\frac{3}{4}", "3/4", true)]
    [InlineData("\\dfrac{3}{4}", "0.75", true)]
    [InlineData("-\\frac{1}{2}", "-0.5", true)]
    [InlineData("\\frac12", "0.5", true)]
    [InlineData("2/4", "1/2", true)]
    [InlineData("75%", "0.75", true)]
    [InlineData("75\\%", "75", true)]
    [InlineData("(C)", "C", true)]
    [InlineData("C.", "C", true)]
    [InlineData("\\text{(C)}", "C", true)]
    [InlineData("x = 6", "6", true)]
    [InlineData("$6$", "6", true)]
    [InlineData("\\boxed{12}", "12", true)]
    [InlineData("90^\\circ", "90", true)]
    [InlineData("3\\sqrt{13}", "3\\sqrt{13}", true)]
    [InlineData("6", "7", false)]
    [InlineData("7/12", "7/13", false)]
    [InlineData("B", "C", false)]
    [InlineData("12 apples", "12", false)]
    [InlineData("", "12", false)]
    public void ComparesAnswersAfterNormalizing(string candidate, string reference, bool equal) =>
        Assert.Equal(equal, AnswerNormalizer.Equivalent(candidate, reference));

    [Fact]
    public void NoCandidateIsNeverRight() => Assert.False(AnswerNormalizer.Equivalent(null, "5"));

    [Theory]
    [InlineData("C", true)]
    [InlineData("(E)", true)]
    [InlineData("F", false)]
    [InlineData("12", false)]
    public void RecognisesChoiceReferences(string reference, bool choice) => Assert.Equal(choice, AnswerNormalizer.IsChoice(reference));
}
