using Retort.Engine.Loading;
using Retort.Tests.Support;
using Retort.Training.Data;
using Retort.Training.Model;

namespace Retort.Training.Tests.Support;

/// <summary>Short training runs on qwen2-micro with a small synthetic SFT data set, in a temporary folder.</summary>
internal sealed class TrainingRuns : IDisposable
{
    private static readonly Lazy<List<TrainingExample>> Examples = new(MakeExamples);

    public TrainingRuns() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "retort-train-" + Guid.NewGuid().ToString("N"));

    public static string StudentFolder => Fixtures.Path("qwen2-micro", "hf");

    public static string TeacherFolder => Fixtures.Path("qwen2-tiny", "hf");

    public static IReadOnlyList<TrainingExample> Data => Examples.Value;

    public static StudentModel Student()
    {
        var model = StudentModel.Load(StudentFolder, threads: 2);
        model.OutputVocabulary = TrainingReference.Vocabulary;
        return model;
    }

    /// <summary>Arithmetic prompts with short reasoning traces: enough structure for the loss to fall quickly.</summary>
    private static List<TrainingExample> MakeExamples()
    {
        using var model = LoadedModel.Load(StudentFolder, threads: 1);
        var dataset = new TraceDataset(model.Tokenizer, model.ChatTemplate);
        var list = new List<TrainingExample>();
        for (int i = 0; i < 24; i++)
        {
            int a = i % 7 + 1, b = i % 5 + 2;
            list.Add(dataset.Parse($$"""{"prompt": "What is {{a}} plus {{b}}?", "reasoning": "{{a}} plus {{b}} is {{a + b}}.", "answer": "{{a + b}}"}"""));
        }
        return list;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
