using System.CommandLine;
using System.Text.Json;
using Retort.Engine.Loading;
using Retort.Engine.Model;
using Spectre.Console;

namespace Retort.Cli.Commands;

/// <summary><c>retort show MODEL</c>: what the model is, from its own files.</summary>
internal static class ShowCommand
{
    public static Command Create(CliIo io)
    {
        var model = new ModelArgument(io);
        var json = new Option<bool>("--json") { Description = "print the facts as one JSON object" };
        var template = new Option<bool>("--template") { Description = "print only the chat template" };
        var command = new Command("show", "Show a model's architecture, size, tensor types, tokens and chat template") { json, template };
        model.AddTo(command, withTemplate: true);
        command.SetAction(result =>
        {
            using var loaded = model.Load(result);
            if (result.GetValue(template))
            {
                io.Out.WriteLine(loaded.ChatTemplateSource ?? "");
                return loaded.ChatTemplateSource == null ? 1 : 0;
            }
            // What run and serve would use by default: their KV cache types, this machine's memory.
            CacheTypeOption.Apply(loaded.Transformer, (null, null));
            var plan = ContextPlan.For(loaded);
            var facts = Describe(loaded, plan);
            if (result.GetValue(json))
            {
                io.Out.WriteLine(JsonSerializer.Serialize(facts, JsonOutput.Indented));
                return 0;
            }
            Print(io.CreateConsole(), loaded, plan);
            return 0;
        });
        return command;
    }

    private static Dictionary<string, object?> Describe(LoadedModel m, ContextPlan plan)
    {
        var c = m.Config;
        var types = m.Weights.Tensors.Values
            .GroupBy(t => t.Type.ToString())
            .OrderByDescending(g => g.Sum(t => t.ByteLength))
            .ToDictionary(g => g.Key, g => new { tensors = g.Count(), bytes = g.Sum(t => t.ByteLength) });
        var tok = m.Tokenizer;
        return new Dictionary<string, object?>
        {
            ["path"] = m.Path,
            ["format"] = m.Format,
            ["architecture"] = c.Architecture,
            ["parameters"] = m.ParameterCount,
            ["context_length"] = c.ContextLength,
            ["default_context"] = ContextOptions.Json(plan),
            ["hidden_size"] = c.HiddenSize,
            ["layers"] = c.LayerCount,
            ["attention_heads"] = c.HeadCount,
            ["kv_heads"] = c.KvHeadCount,
            ["head_dim"] = c.HeadDim,
            ["feed_forward_size"] = c.FeedForwardSize,
            ["vocab_size"] = c.VocabSize,
            ["rope_theta"] = c.RopeTheta,
            ["rms_norm_eps"] = c.RmsNormEps,
            ["tied_embeddings"] = m.Transformer.TiedEmbeddings,
            ["tensor_types"] = types,
            ["bos_token"] = tok.BosTokenId is int b ? new { id = b, text = tok.TokenText(b) } : null,
            ["eos_token"] = tok.EosTokenId is int e ? new { id = e, text = tok.TokenText(e) } : null,
            ["stop_tokens"] = m.EndOfSequenceTokens.Order().Select(id => new { id, text = tok.TokenText(id) }).ToArray(),
            ["chat_template_origin"] = m.ChatTemplateOrigin,
            ["chat_template"] = m.ChatTemplateSource,
        };
    }

    private static void Print(IAnsiConsole console, LoadedModel m, ContextPlan plan)
    {
        var c = m.Config;
        var table = new Table().Border(TableBorder.Rounded).AddColumn("Model").AddColumn("");
        void Row(string key, string value) => table.AddRow(Markup.Escape(key), Markup.Escape(value));
        Row("path", m.Path);
        Row("format", m.Format);
        Row("architecture", c.Architecture);
        Row("parameters", $"{m.ParameterCount:N0} ({m.ParameterCount / 1e9:0.###} B)");
        Row("context length", c.ContextLength.ToString());
        Row("default context", plan.Statement);
        Row("hidden size", c.HiddenSize.ToString());
        Row("layers", c.LayerCount.ToString());
        Row("attention heads", $"{c.HeadCount} (KV heads {c.KvHeadCount}, head dim {c.HeadDim})");
        Row("feed-forward size", c.FeedForwardSize.ToString());
        Row("vocabulary", c.VocabSize.ToString());
        Row("rope theta", c.RopeTheta.ToString("R"));
        Row("rms norm eps", c.RmsNormEps.ToString("R"));
        Row("tied embeddings", m.Transformer.TiedEmbeddings ? "yes" : "no");
        foreach (var g in m.Weights.Tensors.Values.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ByteLength)))
            Row($"tensors {g.Key}", $"{g.Count()} tensors, {g.Sum(t => t.ByteLength) / 1048576.0:0.##} MiB");
        var tok = m.Tokenizer;
        if (tok.BosTokenId is int b) Row("bos token", $"{b} {tok.TokenText(b)}");
        if (tok.EosTokenId is int e) Row("eos token", $"{e} {tok.TokenText(e)}");
        Row("stop tokens", string.Join(", ", m.EndOfSequenceTokens.Order().Select(id => $"{id} {tok.TokenText(id)}")));
        console.Write(table);
        console.WriteLine();
        if (m.ChatTemplateSource != null)
        {
            console.Write(new Rule($"chat template: {Markup.Escape(m.ChatTemplateOrigin ?? "")}").LeftJustified());
            console.WriteLine(m.ChatTemplateSource);
        }
        else
        {
            console.WriteLine("chat template: none (use --chat-template FILE, or --raw with run)");
        }
    }
}
