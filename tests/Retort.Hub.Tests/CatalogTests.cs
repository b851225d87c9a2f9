using Retort.Engine;
using Retort.Hub.Catalog;

namespace Retort.Hub.Tests;

public sealed class CatalogTests
{
    [Theory]
    [InlineData("deepseek-r1:1.5b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B")]
    [InlineData("deepseek-r1:8b", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B")]
    [InlineData("qwen2.5:0.5b", "Qwen/Qwen2.5-0.5B-Instruct")]
    public void KnownAliasesResolve(string alias, string repo) => Assert.Equal(repo, ModelCatalog.Resolve(alias));

    [Fact]
    public void UnknownAliasSuggestsCloseNames()
    {
        var e = Assert.Throws<RetortException>(() => ModelCatalog.Resolve("deepseek-r1:1.5"));
        Assert.Contains("did you mean deepseek-r1:1.5b", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void EditDistanceIsLevenshtein()
    {
        Assert.Equal(3, ModelCatalog.EditDistance("kitten", "sitting"));
        Assert.Equal(0, ModelCatalog.EditDistance("a", "a"));
    }
}
