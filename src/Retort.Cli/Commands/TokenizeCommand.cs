using System.CommandLine;
using System.Text.Json;

namespace Retort.Cli.Commands;

/// <summary><c>retort tokenize MODEL TEXT</c>: prints the token ids of a text.</summary>
internal static class TokenizeCommand
{
    public static Command Create(CliIo io)
    {
        var model = new ModelArgument(io);
        var text = new Argument<string>("TEXT") { Description = "the text to tokenize" };
        var json = new Option<bool>("--json") { Description = "print a JSON array of ids" };
        var special = new Option<bool>("--add-special") { Description = "add the tokens the tokenizer adds around a text (such as BOS)" };
        var pieces = new Option<bool>("--pieces") { Description = "print each id with its token text" };
        var command = new Command("tokenize", "Print the token ids of a text");
        model.AddTo(command, withTemplate: false);
        command.Arguments.Add(text);
        foreach (var o in new Option[] { json, special, pieces }) command.Options.Add(o);
        command.SetAction(result =>
        {
            using var loaded = model.Load(result, withTemplate: false);
            int[] ids = loaded.Tokenizer.Encode(result.GetValue(text)!, result.GetValue(special));
            if (result.GetValue(json))
                io.Out.WriteLine(JsonSerializer.Serialize(ids));
            else if (result.GetValue(pieces))
                foreach (int id in ids)
                    io.Out.WriteLine($"{id,8} {JsonSerializer.Serialize(loaded.Tokenizer.Decode([id]), JsonOutput.Options)}");
            else
                io.Out.WriteLine(string.Join(' ', ids));
            return 0;
        });
        return command;
    }
}
