using System.Globalization;
using Retort.Cli.Commands;
using Retort.Engine;
using Retort.Engine.Generation;
using Retort.Engine.Sampling;

namespace Retort.Cli.Chat;

/// <summary>
/// The interactive loop of <c>retort run</c>: reads a line, streams the answer, and understands
/// a few slash commands in the manner of Ollama (/bye, /clear, /set, /show, /help).
/// </summary>
internal sealed class ChatRepl(CliIo io, ChatSession session, SamplingOptions options, bool hideThinking)
{
    private SamplingOptions _options = options;
    private bool _hideThinking = hideThinking;

    public int Run()
    {
        using var cancel = new ConsoleCancellation();
        cancel.Idle += () =>
        {
            io.Out.Write("\nUse /bye or Ctrl-D to leave.\n>>> ");
            io.Out.Flush();
        };
        cancel.End();
        io.Out.WriteLine("Chat with the model. /help lists commands, /bye (or Ctrl-D) exits, Ctrl-C stops an answer.");
        while (true)
        {
            io.Out.Write(">>> ");
            io.Out.Flush();
            string? line = io.In.ReadLine();
            if (line == null)
            {
                io.Out.WriteLine();
                return 0;
            }
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith('/'))
            {
                if (!Command(line)) return 0;
                continue;
            }
            var printer = new StreamPrinter(io, _hideThinking);
            try
            {
                var token = cancel.Begin();
                var result = session.Send(line, _options, printer.Print, token);
                printer.End();
                if (result.ReasoningBudgetExhausted) io.Out.WriteLine($"[thinking ended at the reasoning budget of {_options.ReasoningBudget} tokens]");
                if (result.FinishReason == FinishReason.Cancelled) io.Out.WriteLine("[stopped]");
                else if (result.FinishReason == FinishReason.Length) io.Out.WriteLine("[answer cut at the token limit]");
            }
            catch (RetortException ex)
            {
                printer.End();
                io.Error.WriteLine($"error: {ex.Message}");
            }
            finally
            {
                cancel.End();
            }
        }
    }

    /// <summary>Handles a slash command; false means leave the chat.</summary>
    private bool Command(string line)
    {
        string[] parts = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        switch (parts[0])
        {
            case "/bye" or "/exit" or "/quit":
                return false;
            case "/clear":
                session.Clear();
                io.Out.WriteLine("Cleared the conversation.");
                return true;
            case "/help" or "/?":
                io.Out.WriteLine("""
                    /set temperature|top_p|top_k|min_p|repeat_penalty|frequency_penalty|presence_penalty|seed|max_tokens VALUE
                    /set reasoning_budget N   most tokens of thinking (0: none, -1: no limit)
                    /set reasoning_nudge TEXT text written before </think> at the budget (\n: line break; no text: none)
                    /set system TEXT     set the system prompt (/set system with no text removes it)
                    /set think|nothink   show or hide the reasoning
                    /show                print the current settings
                    /clear               start a new conversation
                    /bye                 leave
                    """);
                return true;
            case "/show":
                io.Out.WriteLine($"temperature {_options.Temperature}, top_p {_options.TopP}, top_k {_options.TopK}, min_p {_options.MinP}, " +
                                 $"repeat_penalty {_options.RepetitionPenalty}, frequency_penalty {_options.FrequencyPenalty}, " +
                                 $"presence_penalty {_options.PresencePenalty}, seed {(_options.Seed?.ToString() ?? "random")}, " +
                                 $"max_tokens {_options.MaxTokens}, reasoning_budget {(_options.HasReasoningBudget ? _options.ReasoningBudget!.Value.ToString(CultureInfo.InvariantCulture) : "no limit")}, " +
                                 $"reasoning_nudge \"{ReasoningOptionSet.Escape(_options.ReasoningNudge)}\", thinking {(_hideThinking ? "hidden" : "shown")}, " +
                                 $"system {(session.SystemPrompt ?? "none")}, context {session.Generator.Cache.Capacity} tokens " +
                                 $"({session.Generator.Cache.Length} used)");
                return true;
            case "/set":
                try
                {
                    Set(parts.Length > 1 ? parts[1] : "", parts.Length > 2 ? parts[2] : "");
                }
                catch (RetortException ex)
                {
                    io.Error.WriteLine($"error: {ex.Message}");
                }
                return true;
            default:
                io.Error.WriteLine($"error: unknown command '{parts[0]}' (try /help)");
                return true;
        }
    }

    private void Set(string name, string value)
    {
        float F() => float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float f)
            ? f : throw new RetortException($"/set {name} needs a number, found '{value}'");
        int I() => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i)
            ? i : throw new RetortException($"/set {name} needs a whole number, found '{value}'");

        SamplingOptions next = name switch
        {
            "temperature" or "temp" => _options with { Temperature = F() },
            "top_p" => _options with { TopP = F() },
            "top_k" => _options with { TopK = I() },
            "min_p" => _options with { MinP = F() },
            "repeat_penalty" => _options with { RepetitionPenalty = F() },
            "frequency_penalty" => _options with { FrequencyPenalty = F() },
            "presence_penalty" => _options with { PresencePenalty = F() },
            "seed" => _options with { Seed = I() },
            "max_tokens" or "num_predict" => _options with { MaxTokens = I() },
            "reasoning_budget" => _options with { ReasoningBudget = I() },
            "reasoning_nudge" => _options with { ReasoningNudge = ReasoningOptionSet.Unescape(value) },
            _ => _options,
        };
        switch (name)
        {
            case "system":
                session.SystemPrompt = value.Length == 0 ? null : value;
                io.Out.WriteLine(value.Length == 0 ? "Removed the system prompt." : "Set the system prompt.");
                return;
            case "think":
                _hideThinking = false;
                io.Out.WriteLine("Showing the reasoning.");
                return;
            case "nothink":
                _hideThinking = true;
                io.Out.WriteLine("Hiding the reasoning.");
                return;
        }
        if (ReferenceEquals(next, _options))
            throw new RetortException($"unknown setting '{name}' (try /help)");
        next.Validate();
        _options = next;
        io.Out.WriteLine($"Set {name} to {value}.");
    }
}
