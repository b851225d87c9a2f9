using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Training.Data;
using Retort.Training.Tests.Support;

namespace Retort.Training.Tests.Data;

public class TraceDatasetTests
{
    private static readonly Lazy<LoadedModel> Model = new(() => LoadedModel.Load(TrainingRuns.StudentFolder, threads: 1));

    private static TraceDataset Dataset() => new(Model.Value.Tokenizer, Model.Value.ChatTemplate);

    private static string Completion(TrainingExample e) => Model.Value.Tokenizer.Decode(e.Tokens.Where((_, i) => e.Trained[i]));

    private static string Prompt(TrainingExample e) => Model.Value.Tokenizer.Decode(e.Tokens.Where((_, i) => !e.Trained[i]));

    [Fact]
    public void PromptIsRenderedWithTheTemplateAndMasked()
    {
        var e = Dataset().Parse("""{"prompt": "2+2?", "completion": "<think>\nadd\n</think>\n\n4"}""");
        Assert.Equal("<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜><think>\n", Prompt(e));
        // The template already opened <think>; the completion does not repeat it, and it ends with EOS.
        Assert.Equal("add\n</think>\n\n4<｜end▁of▁sentence｜>", Completion(e));
        Assert.True(e.Trained.SkipWhile(t => !t).All(t => t));
    }

    [Fact]
    public void ReasoningAndAnswerBecomeAThinkTrace()
    {
        var a = Dataset().Parse("""{"prompt": "2+2?", "reasoning": "add", "answer": "4"}""");
        var b = Dataset().Parse("""{"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4", "reasoning_content": "add"}]}""");
        Assert.Equal("add\n</think>\n\n4<｜end▁of▁sentence｜>", Completion(a));
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Trained, b.Trained);
    }

    [Fact]
    public void PlainTextTrainsEveryToken()
    {
        var e = Dataset().Parse("""{"text": "hello world"}""");
        Assert.All(e.Trained, Assert.True);
        // The tokenizer adds BOS as tokenizer_config.json asks (add_bos_token).
        Assert.Equal("<｜begin▁of▁sentence｜>hello world<｜end▁of▁sentence｜>", Model.Value.Tokenizer.Decode(e.Tokens));
    }

    [Fact]
    public void MalformedLinesAreReportedWithTheirLineNumber()
    {
        string path = Path.Combine(Path.GetTempPath(), $"retort-data-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, ["""{"prompt": "a", "completion": "b"}""", "{not json", "", """{"messages": [{"role": "user", "content": "x"}]}""", """{"text": "ok"}"""]);
        try
        {
            var stop = Assert.Throws<RetortException>(() => Dataset().ReadFile(path, MalformedLinePolicy.Stop));
            Assert.StartsWith($"{path}:2: not valid JSON", stop.Message);
            var dataset = Dataset();
            var examples = dataset.ReadFile(path, MalformedLinePolicy.Skip);
            Assert.Equal(2, examples.Count);
            Assert.Equal(2, dataset.Skipped.Count);
            Assert.StartsWith($"{path}:4: the last message must be the assistant's", dataset.Skipped[1]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
