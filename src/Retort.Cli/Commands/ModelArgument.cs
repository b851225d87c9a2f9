using System.CommandLine;
using Retort.Engine;
using Retort.Engine.Loading;
using Retort.Hub.Catalog;
using Retort.Hub.Store;

namespace Retort.Cli.Commands;

/// <summary>
/// The MODEL argument, --chat-template and --offline shared by the commands that open a model. MODEL is a
/// path, a store name, or a hub name (alias, owner/name, owner/name:QUANT) that is pulled on first use.
/// </summary>
internal sealed class ModelArgument(CliIo io)
{
    public Argument<string> Model { get; } = new("MODEL")
    {
        Description = "a .gguf file, a Hugging Face model folder (config.json, *.safetensors, tokenizer.json), a model name from `retort list`, "
            + "or a hub name (deepseek-r1:1.5b, owner/name, owner/name-GGUF:Q4_K_M), pulled on first use",
    };

    public Option<string?> ChatTemplate { get; } = new("--chat-template")
    {
        Description = "a Jinja chat template file to use instead of the model's own",
    };

    public Option<bool> Offline { get; } = new("--offline")
    {
        Description = "never download: use only files and models already in the local store (as HF_HUB_OFFLINE=1)",
    };

    /// <summary>The model shipped beside the CLI (models/retort-tiny-r1.gguf, copied by the csproj), used when MODEL is left out.</summary>
    internal static string DefaultModelPath => Path.Combine(AppContext.BaseDirectory, "models", "retort-tiny-r1.gguf");

    /// <param name="optional">MODEL may be left out; the shipped default model is used then.</param>
    public void AddTo(Command command, bool withTemplate, bool optional = false)
    {
        if (optional)
        {
            Model.Arity = ArgumentArity.ZeroOrOne;
            Model.Description += "; left out: the built-in tiny demo model (models/retort-tiny-r1.gguf)";
        }
        command.Arguments.Add(Model);
        command.Options.Add(Offline);
        if (withTemplate) command.Options.Add(ChatTemplate);
    }

    public LoadedModel Load(ParseResult result, bool withTemplate = true, int threads = 0) =>
        LoadedModel.Load(Locate(result), withTemplate ? result.GetValue(ChatTemplate) : null, threads);

    /// <summary>The path to open: an existing path wins, then a store name, then a hub name (pulled now unless offline).</summary>
    private string Locate(ParseResult result)
    {
        string? argument = result.GetValue(Model);
        if (argument == null)
        {
            if (!File.Exists(DefaultModelPath))
                throw new RetortException($"no MODEL given and the built-in model is missing: expected {DefaultModelPath}");
            return DefaultModelPath;
        }
        var path = ModelResolver.Resolve(argument, LocalStore.FromEnvironment(io.GetEnvironmentVariable));
        if (path != argument || File.Exists(path) || Directory.Exists(path)) return path;
        if (ModelResolver.IsHubName(argument))
        {
            // Progress goes to stderr so that stdout (--json, the answer) stays clean.
            return PullCommand.PullAsync(io, argument, result.GetValue(Offline), toError: true, CancellationToken.None)
                .GetAwaiter().GetResult().ModelPath;
        }
        if (ModelCatalog.IsAliasLike(argument) && !ModelResolver.LooksLikePath(argument) && ModelCatalog.Suggest(argument).Count > 0)
            ModelCatalog.Resolve(argument); // an alias typo: fails with the close names
        return argument; // the loader says the file or folder is missing
    }
}
