using System.CommandLine;
using Retort.Engine.Loading;
using Retort.Hub.Store;

namespace Retort.Cli.Commands;

/// <summary>The MODEL argument and --chat-template option shared by the commands that open a model.</summary>
internal sealed class ModelArgument
{
    public Argument<string> Model { get; } = new("MODEL")
    {
        Description = "a .gguf file, a Hugging Face model folder (config.json, *.safetensors, tokenizer.json) or a model name from `retort list`",
    };

    public Option<string?> ChatTemplate { get; } = new("--chat-template")
    {
        Description = "a Jinja chat template file to use instead of the model's own",
    };

    public void AddTo(Command command, bool withTemplate)
    {
        command.Arguments.Add(Model);
        if (withTemplate) command.Options.Add(ChatTemplate);
    }

    public LoadedModel Load(ParseResult result, bool withTemplate = true, int threads = 0) =>
        LoadedModel.Load(ModelResolver.Resolve(result.GetValue(Model)!, LocalStore.Default()),
            withTemplate ? result.GetValue(ChatTemplate) : null, threads);
}
