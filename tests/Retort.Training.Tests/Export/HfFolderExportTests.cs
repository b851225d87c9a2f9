using Retort.Engine.Conversion;
using Retort.Engine.Loading;
using Retort.Training.Export;
using Retort.Training.Model;
using Retort.Training.Tests.Support;

namespace Retort.Training.Tests.Export;

/// <summary>An exported student runs in the inference engine (as an HF folder and as a GGUF) with the student's own logits.</summary>
public class HfFolderExportTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ExportedFolderAndGgufRunWithTheStudentsLogits(bool tied)
    {
        using var runs = new TrainingRuns();
        using var student = tied
            ? StudentModel.Initialize(TinyModels.Config(vocab: 512), tiedEmbeddings: true, seed: 4, std: 0.3, threads: 2)
            : TrainingRuns.Student();
        string dir = Path.Combine(runs.Root, "hf");
        HfFolderExport.Write(student, dir, TrainingRuns.StudentFolder);
        int[] tokens = [5, 77, 130, 9, 411, 2];
        var batch = new TrainingBatch(1, tokens.Length, tokens, new int[tokens.Length], Enumerable.Range(0, tokens.Length).ToArray(), new int[tokens.Length]);
        student.OutputVocabulary = student.Config.VocabSize;
        var expected = student.Forward(batch)[..(tokens.Length * student.Config.VocabSize)];

        string gguf = Path.Combine(runs.Root, "student.gguf");
        HfToGguf.Convert(dir, gguf, "f32");
        foreach (string path in new[] { dir, gguf })
        {
            using var loaded = LoadedModel.Load(path, threads: 1);
            var logits = loaded.Transformer.Forward(tokens, loaded.Transformer.CreateCache(tokens.Length), allLogits: true);
            Assert.True(GradientAssert.ScaledError(logits, expected) < 1e-5, path);
            Assert.Equal(tied, loaded.Transformer.TiedEmbeddings);
        }
    }
}
